using CloudProviders.Domain;

namespace CloudProviders.Tests.Unit;

public sealed class TeamIdTests
{
    [Theory]
    [InlineData("0190d9b8-7c1e-7a2b-9c3d-4e5f60718293")]
    [InlineData("0190D9B8-7C1E-7A2B-9C3D-4E5F60718293")]
    [InlineData("00000000-0000-0000-0000-000000000000")]
    public void Canonical_uuids_in_either_case_parse(string text)
    {
        Assert.True(TeamId.TryParse(text, out var id));
        Assert.Equal(text.ToLowerInvariant(), TeamId.Format(id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0190d9b87c1e7a2b9c3d4e5f60718293")]
    [InlineData("{0190d9b8-7c1e-7a2b-9c3d-4e5f60718293}")]
    [InlineData("(0190d9b8-7c1e-7a2b-9c3d-4e5f60718293)")]
    [InlineData(" 0190d9b8-7c1e-7a2b-9c3d-4e5f60718293")]
    [InlineData("0190d9b8-7c1e-7a2b-9c3d-4e5f6071829")]
    [InlineData("0190d9b8-7c1e-7a2b-9c3d-4e5f607182933")]
    [InlineData("0190d9b8-7c1e-7a2b-9c3d_4e5f60718293")]
    [InlineData("0190d9g8-7c1e-7a2b-9c3d-4e5f60718293")]
    [InlineData("0x190d9b8-7c1e-7a2b-9c3d-4e5f6071829")]
    [InlineData("{0x0190d9b8,0x7c1e,0x7a2b,{0x9c,0x3d,0x4e,0x5f,0x60,0x71,0x82,0x93}}")]
    [InlineData("'; DROP TABLE teams; --")]
    [InlineData("0190d9b8-7c1e-7a2b-9c3d-4e5f60718293,0190d9b8-7c1e-7a2b-9c3d-4e5f60718294")]
    public void Anything_but_the_canonical_form_is_refused(string text)
    {
        Assert.False(TeamId.TryParse(text, out _));
    }
}
