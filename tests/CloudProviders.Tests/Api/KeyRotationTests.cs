using System.Net;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Api;

public sealed class KeyRotationTests : IDisposable
{
    private readonly ServiceFactory _app = new();

    public KeyRotationTests() => _app.SeedTeamA();

    private string PemPath => Path.Combine(_app.Folder, "idp.pem");

    private async Task<HttpStatusCode> Get(string token)
    {
        using var client = _app.ClientWith(token, ServiceFactory.TeamA);
        return (await client.GetAsync(HttpAssert.StatusPath)).StatusCode;
    }

    /// <summary>Writes the file and waits past the service's one-second look at it.</summary>
    private async Task Rewrite(string pem)
    {
        await File.WriteAllTextAsync(PemPath, pem);
        File.SetLastWriteTimeUtc(PemPath, DateTime.UtcNow.AddSeconds(Random.Shared.Next(1, 1000)));
        await Task.Delay(1200);
    }

    [Fact]
    public async Task The_identity_providers_keys_rotate_without_a_restart()
    {
        using var next = new TestKeys();
        Assert.Equal(HttpStatusCode.OK, await Get(_app.Keys.Rs256(TestUsers.Owner)));
        Assert.Equal(HttpStatusCode.Unauthorized, await Get(next.Rs256(TestUsers.Owner)));

        // The provider publishes its next key beside the current one.
        await Rewrite(_app.Keys.PublicPem + next.Rsa.ExportSubjectPublicKeyInfoPem());
        Assert.Equal(HttpStatusCode.OK, await Get(next.Rs256(TestUsers.Owner)));
        var current = _app.Keys.Rs256(TestUsers.Owner);
        Assert.Equal(HttpStatusCode.OK, await Get(current));

        // A file caught half-written keeps the keys in force.
        await Rewrite("-----BEGIN PUBLIC KEY-----\nMIIB");
        Assert.Equal(HttpStatusCode.OK, await Get(next.Rs256(TestUsers.Owner)));

        // The old key is retired: its tokens, even one that validated before, are refused.
        await Rewrite(next.Rsa.ExportSubjectPublicKeyInfoPem());
        Assert.Equal(HttpStatusCode.Unauthorized, await Get(current));
        Assert.Equal(HttpStatusCode.OK, await Get(next.Rs256(TestUsers.Owner)));
        Assert.Contains(_app.Logs, line => line.Contains("Kept the JWT keys in force", StringComparison.Ordinal));
    }

    public void Dispose() => _app.Dispose();
}
