using System.Text.RegularExpressions;
using CloudProviders.Domain;
using CsCheck;

namespace CloudProviders.Tests.Unit;

public sealed partial class TeamIdTests
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

    [GeneratedRegex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    private static partial Regex Canonical();

    [Fact]
    public void Any_text_parses_exactly_when_it_is_canonical_and_to_the_uuid_it_spells()
    {
        // Near misses: 36 characters of hex digits, hyphens and a few others, or a real UUID in either case.
        const string Alphabet = "0123456789abcdefABCDEF-gG{} x\u00e9\u0660";
        var scrambled = Gen.String[Gen.Char[Alphabet], 36, 36];
        var real = Gen.Guid.Select(Gen.Bool, (guid, upper) => upper ? guid.ToString("D").ToUpperInvariant() : guid.ToString("D"));
        var oneOff = Gen.Select(real, Gen.Int[0, 35], Gen.Char[Alphabet], (text, at, c) => string.Concat(text.AsSpan(0, at), [c], text.AsSpan(at + 1)));
        Gen.OneOf(scrambled, real, oneOff).Sample(text =>
        {
            var expected = Canonical().IsMatch(text) && Guid.TryParseExact(text, "D", out var reference) ? reference : (Guid?)null;
            return TeamId.TryParse(text, out var id) ? expected == id : expected is null;
        }, iter: 20_000);
    }
}
