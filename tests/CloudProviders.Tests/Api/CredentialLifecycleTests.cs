using System.Net;
using System.Text;
using CloudProviders.Domain;
using CloudProviders.Storage;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Api;

public sealed class CredentialLifecycleTests : IDisposable
{
    private readonly TestClock _clock = new();
    private readonly ServiceFactory _app;

    public CredentialLifecycleTests()
    {
        _app = ServiceFactory.WithClock(_clock);
        _app.SeedTeamA(withCredential: false);
    }

    private CredentialStore Store => _app.Get<CredentialStore>();

    [Fact]
    public void A_replacement_keeps_created_at_moves_updated_at_and_reactivates_a_revoked_credential()
    {
        var first = Store.Set(ServiceFactory.TeamA, Provider.ComfyCloud, ServiceFactory.ComfyKey, cloudFallback: true, Actor.Cli)!;
        Assert.Equal(first.CreatedAt, first.UpdatedAt);

        _clock.Advance(TimeSpan.FromMinutes(5));
        var revoked = Store.Revoke(ServiceFactory.TeamA, Provider.ComfyCloud, Actor.Cli)!;
        Assert.False(revoked.Active);
        Assert.False(revoked.CloudFallback);
        Assert.Equal(first.CreatedAt, revoked.CreatedAt);
        Assert.Equal(first.CreatedAt.AddMinutes(5), revoked.UpdatedAt);
        Assert.Equal("comfyui-...89ab", revoked.KeyPreview);

        _clock.Advance(TimeSpan.FromMinutes(5));
        var again = Store.Revoke(ServiceFactory.TeamA, Provider.ComfyCloud, Actor.Cli)!;
        Assert.Equal(revoked.UpdatedAt, again.UpdatedAt);

        var replacement = "comfyui-" + new string('f', 60) + "0000";
        var replaced = Store.Set(ServiceFactory.TeamA, Provider.ComfyCloud, replacement, cloudFallback: false, Actor.Cli)!;
        Assert.True(replaced.Active);
        Assert.Equal(first.CreatedAt, replaced.CreatedAt);
        Assert.Equal(first.CreatedAt.AddMinutes(10), replaced.UpdatedAt);
        Assert.Equal("comfyui-...0000", replaced.KeyPreview);
        Assert.Equal(replacement, Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud));
    }

    [Fact]
    public void Setting_a_key_for_a_team_that_does_not_exist_changes_nothing()
    {
        Assert.Null(Store.Set(Guid.NewGuid(), Provider.ComfyCloud, ServiceFactory.ComfyKey, cloudFallback: false, Actor.Cli));
        Assert.Null(Store.Revoke(ServiceFactory.TeamA, Provider.ComfyCloud, Actor.Cli));
        Assert.Null(Store.Find(ServiceFactory.TeamA, Provider.ComfyCloud));
    }

    [Fact]
    public async Task An_expired_key_is_refused_from_its_expiry_on()
    {
        Store.Set(ServiceFactory.TeamA, Provider.ComfyCloud, ServiceFactory.ComfyKey, cloudFallback: false, Actor.Cli);
        var key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk, TimeSpan.FromDays(1));
        using var client = _app.ClientWith(key);
        await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        _clock.Advance(TimeSpan.FromDays(1));
        await HttpAssert.Error(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task No_key_token_or_authorization_value_reaches_the_logs_or_the_database_in_plain_form()
    {
        Store.Set(ServiceFactory.TeamA, Provider.ComfyCloud, ServiceFactory.ComfyKey, cloudFallback: false, Actor.Cli);
        var sk = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
        var dk = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Dk);
        var jwt = TestKeys.Hs256(TestUsers.Owner);
        var forged = jwt[..^4] + "AAAA";
        foreach (var (token, team) in new[] { (sk, (Guid?)null), (dk, null), (jwt, ServiceFactory.TeamA), (forged, ServiceFactory.TeamA), (jwt, null) })
        {
            using var client = _app.ClientWith(token, team);
            await client.GetAsync(HttpAssert.StatusPath);
        }
        _app.Get<ApiKeyStore>().Revoke(ApiKeys.Prefix(sk));
        using (var revoked = _app.ClientWith(sk))
        {
            await revoked.GetAsync(HttpAssert.StatusPath);
        }
        Store.Revoke(ServiceFactory.TeamA, Provider.ComfyCloud, Actor.Cli);

        var secrets = new[] { ServiceFactory.ComfyKey, ServiceFactory.ComfyKey[8..^4], sk, sk[12..], dk, dk[12..], jwt, jwt.Split('.')[2], forged, TestKeys.Secret };
        var logs = string.Join('\n', _app.Logs);
        Assert.NotEmpty(logs);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(_app.Folder, "test.db*"))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            foreach (var secret in secrets)
            {
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"{Path.GetFileName(file)} holds a secret in plain form");
            }
        }
    }

    public void Dispose() => _app.Dispose();
}
