using System.Net;
using CloudProviders.Domain;
using CloudProviders.Storage;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Api;

public sealed class StatusEndpointTests : IDisposable
{
    private readonly ServiceFactory _app = new();

    public StatusEndpointTests() => _app.SeedTeamA();

    [Fact]
    public async Task Sk_key_reads_its_team_status_as_exactly_the_six_contract_fields()
    {
        using var client = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk));
        var response = await client.GetAsync(HttpAssert.StatusPath);
        var body = await HttpAssert.Json(response, HttpStatusCode.OK);

        Assert.Equal(
            ["provider_name", "credential_status", "cloud_fallback", "created_at", "updated_at", "key_preview"],
            body.EnumerateObject().Select(p => p.Name));
        Assert.Equal("comfy_cloud", body.GetProperty("provider_name").GetString());
        Assert.Equal("active", body.GetProperty("credential_status").GetString());
        Assert.True(body.GetProperty("cloud_fallback").GetBoolean());
        Assert.Equal("comfyui-...89ab", body.GetProperty("key_preview").GetString());
        Assert.Matches(ContractTime.Shape(), body.GetProperty("created_at").GetString());
        Assert.Matches(ContractTime.Shape(), body.GetProperty("updated_at").GetString());
    }

    [Fact]
    public async Task The_body_is_byte_for_byte_what_the_store_holds()
    {
        var status = _app.Get<CredentialStore>().Find(ServiceFactory.TeamA, Provider.ComfyCloud)!;
        using var client = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Dk));
        var text = await client.GetStringAsync(HttpAssert.StatusPath);
        var at = ContractTime.Format(status.CreatedAt);
        var updated = ContractTime.Format(status.UpdatedAt);
        Assert.Equal(
            $$"""{"provider_name":"comfy_cloud","credential_status":"active","cloud_fallback":true,"created_at":"{{at}}","updated_at":"{{updated}}","key_preview":"comfyui-...89ab"}""",
            text);
    }

    [Fact]
    public async Task A_short_key_has_no_preview_field()
    {
        _app.Get<CredentialStore>().Set(ServiceFactory.TeamA, Provider.ComfyCloud, "short-key-19-chars!", cloudFallback: false, Actor.Cli);
        using var client = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk));
        var body = await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        Assert.False(body.TryGetProperty("key_preview", out _));
        Assert.False(body.GetProperty("cloud_fallback").GetBoolean());
    }

    [Fact]
    public async Task A_key_reads_its_own_team_whatever_X_Team_ID_says()
    {
        var key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
        foreach (var header in new[] { ServiceFactory.TeamB.ToString(), "not-a-uuid", "" })
        {
            using var client = _app.ClientWith(key);
            client.DefaultRequestHeaders.TryAddWithoutValidation("X-Team-ID", header);
            var body = await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
            Assert.Equal("comfyui-...89ab", body.GetProperty("key_preview").GetString());
        }
        using var teamB = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamB, ApiKeyKind.Sk), ServiceFactory.TeamA);
        await HttpAssert.Error(await teamB.GetAsync(HttpAssert.StatusPath), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_team_without_a_credential_gets_404()
    {
        using var client = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamB, ApiKeyKind.Dk));
        var message = await HttpAssert.Error(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.NotFound);
        Assert.Contains("No ComfyUI Cloud credential", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revoked_credential_reads_revoked_with_fallback_off_and_its_preview_and_created_at_kept()
    {
        var store = _app.Get<CredentialStore>();
        var before = store.Find(ServiceFactory.TeamA, Provider.ComfyCloud)!;
        store.Revoke(ServiceFactory.TeamA, Provider.ComfyCloud, Actor.Cli);
        using var client = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk));
        var body = await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        Assert.Equal("revoked", body.GetProperty("credential_status").GetString());
        Assert.False(body.GetProperty("cloud_fallback").GetBoolean());
        Assert.Equal("comfyui-...89ab", body.GetProperty("key_preview").GetString());
        Assert.Equal(ContractTime.Format(before.CreatedAt), body.GetProperty("created_at").GetString());
        Assert.Null(store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud));
    }

    [Fact]
    public async Task Revoked_expired_and_unknown_keys_get_401()
    {
        var revoked = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
        Assert.True(_app.Get<ApiKeyStore>().Revoke(ApiKeys.Prefix(revoked)));
        var expired = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Dk, TimeSpan.FromSeconds(-1));
        var unknown = ApiKeys.Generate(ApiKeyKind.Sk);
        foreach (var key in new[] { revoked, expired, unknown })
        {
            using var client = _app.ClientWith(key);
            await HttpAssert.Error(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task A_key_revoked_between_two_requests_is_refused_at_the_second()
    {
        var key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
        using var client = _app.ClientWith(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(HttpAssert.StatusPath)).StatusCode);
        _app.Get<ApiKeyStore>().Revoke(ApiKeys.Prefix(key));
        await HttpAssert.Error(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    [InlineData("Basic YWxpY2U6cGFzc3dvcmQ=")]
    [InlineData("Bearer ak-0123456789012345678901234567890123456789abc")]
    [InlineData("Bearer garbage")]
    [InlineData("Bearer a.b.c")]
    [InlineData("Bearer  sk-0123456789012345678901234567890123456789abc")]
    public async Task Anything_but_a_valid_bearer_token_gets_401_with_WWW_Authenticate(string? authorization)
    {
        using var client = _app.CreateClient();
        if (authorization is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        }
        var message = await HttpAssert.Error(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.Unauthorized);
        Assert.Equal("Authentication required: send a valid bearer token.", message);
    }

    [Fact]
    public async Task Wrong_case_in_a_key_prefix_gets_401()
    {
        var key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
        using var client = _app.ClientWith("SK-" + key[3..]);
        await HttpAssert.Error(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.Unauthorized);
    }

    public void Dispose() => _app.Dispose();
}
