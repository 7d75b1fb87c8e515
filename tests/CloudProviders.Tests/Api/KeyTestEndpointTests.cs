using System.Net;
using System.Net.Http.Headers;
using System.Text;
using CloudProviders.Domain;
using CloudProviders.Storage;
using CloudProviders.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CloudProviders.Tests.Api;

/// <summary>
/// <c>POST .../comfy-cloud/test</c> and <c>PUT ...?verify=true</c>, in process against a real
/// loopback stand-in for ComfyUI Cloud: every outcome, where the key went, what is recorded, and
/// the limit of one test per team in ten seconds (on a clock the test moves).
/// </summary>
public sealed class KeyTestEndpointTests : IAsyncLifetime
{
    private const string TestPath = HttpAssert.StatusPath + "/test";

    private readonly TestClock _clock = new();
    private ComfyCloudStandIn _standIn = null!;
    private ServiceFactory _app = null!;

    public async Task InitializeAsync()
    {
        _standIn = await ComfyCloudStandIn.StartAsync();
        _app = new ServiceFactory(
            settings =>
            {
                settings["ComfyCloud:BaseUrl"] = _standIn.BaseUrl;
                // Sized for a loaded machine, and far below the stand-in's endless hang.
                settings["ComfyCloud:TimeoutSeconds"] = "3";
            },
            services => services.AddSingleton<TimeProvider>(_clock));
        _app.SeedTeamA();
    }

    public async Task DisposeAsync()
    {
        _app.Dispose();
        await _standIn.DisposeAsync();
    }

    private CredentialStore Store => _app.Get<CredentialStore>();

    private HttpClient Owner() => _app.ClientWith(TestKeys.Hs256(TestUsers.Owner), ServiceFactory.TeamA);

    private static StringContent Json(string body, string contentType = "application/json")
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    private static StringContent Candidate(string key) => Json($$"""{"api_key":"{{key}}"}""");

    /// <summary>Stores the key as team A's, as the command line would.</summary>
    private void StoreKey(string key) => Store.Set(ServiceFactory.TeamA, Provider.ComfyCloud, key, cloudFallback: false, Actor.Cli);

    private async Task<System.Text.Json.JsonElement> TestStored(HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var client = Owner();
        return await HttpAssert.Json(await client.PostAsync(TestPath, null), expected);
    }

    private IReadOnlyList<AuditEntry> Trail() => new AuditTrail(_app.Get<Database>()).List(ServiceFactory.TeamA);

    [Fact]
    public async Task A_stored_key_the_provider_accepts_is_valid_with_its_status_and_the_time()
    {
        StoreKey(ComfyCloudStandIn.ValidKey);
        var body = await TestStored();
        Assert.Equal(
            ["provider_name", "result", "upstream_status", "checked_at"],
            body.EnumerateObject().Select(p => p.Name));
        Assert.Equal("comfy_cloud", body.GetProperty("provider_name").GetString());
        Assert.Equal("valid", body.GetProperty("result").GetString());
        Assert.Equal(200, body.GetProperty("upstream_status").GetInt32());
        Assert.Equal(ContractTime.Format(_clock.GetUtcNow()), body.GetProperty("checked_at").GetString());
    }

    [Theory]
    [InlineData(ComfyCloudStandIn.RejectedKey, "rejected", 401)]
    [InlineData(ComfyCloudStandIn.ForbiddenKey, "rejected", 403)]
    [InlineData(ComfyCloudStandIn.TooManyRequestsKey, "unreachable", 429)]
    [InlineData(ComfyCloudStandIn.ServerErrorKey, "unreachable", 500)]
    [InlineData(ComfyCloudStandIn.HugeBodyKey, "valid", 200)]
    public async Task Each_answer_of_the_provider_is_its_outcome_with_its_status(string key, string result, int upstream)
    {
        StoreKey(key);
        var body = await TestStored();
        Assert.Equal(result, body.GetProperty("result").GetString());
        Assert.Equal(upstream, body.GetProperty("upstream_status").GetInt32());
    }

    [Theory]
    [InlineData(ComfyCloudStandIn.HangingKey)]
    [InlineData(ComfyCloudStandIn.DroppingKey)]
    public async Task A_provider_that_hangs_or_hangs_up_is_unreachable_without_a_status(string key)
    {
        StoreKey(key);
        var body = await TestStored();
        Assert.Equal("unreachable", body.GetProperty("result").GetString());
        Assert.False(body.TryGetProperty("upstream_status", out _));
    }

    [Fact]
    public async Task A_provider_that_is_not_there_is_unreachable()
    {
        var url = _standIn.BaseUrl;
        await _standIn.DisposeAsync();
        _standIn = await ComfyCloudStandIn.StartAsync();
        using var gone = new ServiceFactory(settings => settings["ComfyCloud:BaseUrl"] = url);
        gone.SeedTeamA();
        using var client = gone.ClientWith(TestKeys.Hs256(TestUsers.Owner), ServiceFactory.TeamA);
        var body = await HttpAssert.Json(await client.PostAsync(TestPath, null), HttpStatusCode.OK);
        Assert.Equal("unreachable", body.GetProperty("result").GetString());
    }

    [Fact]
    public async Task The_key_goes_to_the_check_path_in_X_API_Key_and_nowhere_else()
    {
        StoreKey(ComfyCloudStandIn.ValidKey);
        await TestStored();
        var request = Assert.Single(_standIn.Requests);
        Assert.Equal(("GET", "/api/user"), (request.Method, request.PathAndQuery));
        Assert.Equal([ComfyCloudStandIn.ValidKey], request.Headers.Where(h => h.Key == "X-API-Key").Select(h => h.Value));
        Assert.DoesNotContain(request.Headers, h => h.Key != "X-API-Key" && h.Value.Contains(ComfyCloudStandIn.ValidKey[8..^4], StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_test_of_the_stored_key_is_in_the_audit_trail_with_its_outcome()
    {
        StoreKey(ComfyCloudStandIn.RejectedKey);
        await TestStored();
        var entry = Trail()[0];
        Assert.Equal(("test", "jwt", TestUsers.Owner, "comfyui-...0bad", "rejected", 401),
            (entry.Action, entry.ActorKind, entry.Actor, entry.KeyPreview, entry.Outcome, entry.UpstreamStatus));
    }

    [Fact]
    public async Task A_team_without_a_credential_has_no_key_to_test()
    {
        using var client = _app.ClientWith(TestKeys.Hs256(TestUsers.OtherTeamOwner), ServiceFactory.TeamB);
        var message = await HttpAssert.Error(await client.PostAsync(TestPath, null), HttpStatusCode.NotFound);
        Assert.Contains("No ComfyUI Cloud credential is configured", message, StringComparison.Ordinal);
        Assert.Empty(_standIn.Requests);
    }

    [Fact]
    public async Task A_revoked_credential_has_no_key_to_test()
    {
        Store.Revoke(ServiceFactory.TeamA, Provider.ComfyCloud, Actor.Cli);
        var message = await HttpAssert.Error(await Owner().PostAsync(TestPath, null), HttpStatusCode.NotFound);
        Assert.Contains("revoked", message, StringComparison.Ordinal);
        Assert.Empty(_standIn.Requests);
    }

    [Fact]
    public async Task A_candidate_key_is_tested_and_nothing_of_it_is_kept()
    {
        var before = (Store.Find(ServiceFactory.TeamA, Provider.ComfyCloud), Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud), Trail().Count);
        using var client = Owner();
        var body = await HttpAssert.Json(await client.PostAsync(TestPath, Candidate(ComfyCloudStandIn.ValidKey)), HttpStatusCode.OK);
        Assert.Equal("valid", body.GetProperty("result").GetString());
        Assert.Equal(before, (Store.Find(ServiceFactory.TeamA, Provider.ComfyCloud), Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud), Trail().Count));
        Assert.Equal(ComfyCloudStandIn.ValidKey, Assert.Single(_standIn.Requests).Headers.Single(h => h.Key == "X-API-Key").Value);
    }

    [Fact]
    public async Task A_key_that_cannot_be_sent_as_a_header_is_rejected_without_asking_the_provider()
    {
        using var client = Owner();
        var body = await HttpAssert.Json(await client.PostAsync(TestPath, Candidate("comfyui-cl\u00e9-0123456789abcdef")), HttpStatusCode.OK);
        Assert.Equal("rejected", body.GetProperty("result").GetString());
        Assert.False(body.TryGetProperty("upstream_status", out _));
        Assert.Empty(_standIn.Requests);
    }

    [Fact]
    public async Task A_candidate_key_follows_the_put_bodys_rules()
    {
        using var client = Owner();
        await HttpAssert.Error(await client.PostAsync(TestPath, Json("""{"api_key":""}""")), HttpStatusCode.BadRequest);
        await HttpAssert.Error(await client.PostAsync(TestPath, Json("{\"api_key\":\"x\"}", "text/plain")), HttpStatusCode.UnsupportedMediaType);
        Assert.Empty(_standIn.Requests);
    }

    [Fact]
    public async Task A_second_test_by_the_same_team_within_ten_seconds_gets_429_with_Retry_After()
    {
        using var client = Owner();
        await HttpAssert.Json(await client.PostAsync(TestPath, Candidate(ComfyCloudStandIn.ValidKey)), HttpStatusCode.OK);
        _clock.Advance(TimeSpan.FromSeconds(4));
        var refused = await client.PostAsync(TestPath, Candidate(ComfyCloudStandIn.ValidKey));
        await HttpAssert.Error(refused, HttpStatusCode.TooManyRequests);
        Assert.Equal(TimeSpan.FromSeconds(6), refused.Headers.RetryAfter?.Delta);
        Assert.Single(_standIn.Requests);
    }

    [Fact]
    public async Task A_request_refused_before_the_provider_is_asked_does_not_spend_the_teams_turn()
    {
        using var client = Owner();
        await HttpAssert.Error(await client.PostAsync(TestPath, Json("""{"api_key":""}""")), HttpStatusCode.BadRequest);
        await HttpAssert.Json(await client.PostAsync(TestPath, Candidate(ComfyCloudStandIn.ValidKey)), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_team_may_test_again_once_ten_seconds_have_passed()
    {
        using var client = Owner();
        await HttpAssert.Json(await client.PostAsync(TestPath, Candidate(ComfyCloudStandIn.ValidKey)), HttpStatusCode.OK);
        _clock.Advance(TimeSpan.FromSeconds(10));
        await HttpAssert.Json(await client.PostAsync(TestPath, Candidate(ComfyCloudStandIn.ValidKey)), HttpStatusCode.OK);
    }

    [Fact]
    public async Task One_teams_test_does_not_spend_another_teams_turn()
    {
        using var teamA = Owner();
        using var teamB = _app.ClientWith(TestKeys.Hs256(TestUsers.OtherTeamOwner), ServiceFactory.TeamB);
        await HttpAssert.Json(await teamA.PostAsync(TestPath, Candidate(ComfyCloudStandIn.ValidKey)), HttpStatusCode.OK);
        await HttpAssert.Json(await teamB.PostAsync(TestPath, Candidate(ComfyCloudStandIn.ValidKey)), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Only_those_who_may_set_the_key_may_test_it()
    {
        using var integration = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk));
        using var viewer = _app.ClientWith(TestKeys.Hs256(TestUsers.Viewer), ServiceFactory.TeamA);
        using var anonymous = _app.CreateClient();
        using var device = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Dk));
        await HttpAssert.Error(await integration.PostAsync(TestPath, null), HttpStatusCode.Forbidden);
        await HttpAssert.Error(await viewer.PostAsync(TestPath, null), HttpStatusCode.Forbidden);
        await HttpAssert.Error(await anonymous.PostAsync(TestPath, null), HttpStatusCode.Unauthorized);
        Assert.Empty(_standIn.Requests);
        StoreKey(ComfyCloudStandIn.ValidKey);
        await HttpAssert.Json(await device.PostAsync(TestPath, null), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_verified_put_of_a_key_the_provider_accepts_stores_it_with_its_outcome()
    {
        using var client = Owner();
        var body = await HttpAssert.Json(await client.PutAsync(HttpAssert.StatusPath + "?verify=true", Candidate(ComfyCloudStandIn.ValidKey)), HttpStatusCode.OK);
        Assert.Equal("comfyui-...a11c", body.GetProperty("key_preview").GetString());
        Assert.Equal(ComfyCloudStandIn.ValidKey, Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud));
        Assert.Equal(("replace", "valid"), (Trail()[0].Action, Trail()[0].Outcome));
    }

    [Theory]
    [InlineData(ComfyCloudStandIn.RejectedKey, HttpStatusCode.UnprocessableEntity)]
    [InlineData(ComfyCloudStandIn.ServerErrorKey, HttpStatusCode.ServiceUnavailable)]
    public async Task A_verified_put_of_a_key_that_is_not_valid_changes_nothing(string key, HttpStatusCode expected)
    {
        var before = (Store.Find(ServiceFactory.TeamA, Provider.ComfyCloud), Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud), Trail().Count);
        using var client = Owner();
        var response = await client.PutAsync(HttpAssert.StatusPath + "?verify=true", Candidate(key));
        await HttpAssert.Error(response, expected);
        if (expected == HttpStatusCode.ServiceUnavailable)
        {
            Assert.NotNull(response.Headers.RetryAfter);
        }
        Assert.Equal(before, (Store.Find(ServiceFactory.TeamA, Provider.ComfyCloud), Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud), Trail().Count));
    }

    [Fact]
    public async Task A_put_without_verify_does_not_ask_the_provider()
    {
        using var client = Owner();
        await HttpAssert.Json(await client.PutAsync(HttpAssert.StatusPath, Candidate(ComfyCloudStandIn.RejectedKey)), HttpStatusCode.OK);
        await HttpAssert.Json(await client.PutAsync(HttpAssert.StatusPath + "?verify=false", Candidate(ComfyCloudStandIn.RejectedKey)), HttpStatusCode.OK);
        Assert.Empty(_standIn.Requests);
    }

    [Fact]
    public async Task A_verify_parameter_that_is_not_true_or_false_gets_400_and_changes_nothing()
    {
        var before = Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud);
        using var client = Owner();
        await HttpAssert.Error(await client.PutAsync(HttpAssert.StatusPath + "?verify=yes", Candidate(ComfyCloudStandIn.ValidKey)), HttpStatusCode.BadRequest);
        Assert.Equal(before, Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud));
        Assert.Empty(_standIn.Requests);
    }
}
