using System.Net;
using System.Text.Json;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Native;

/// <summary>
/// Testing a key on the published binary, against a real loopback stand-in for ComfyUI Cloud:
/// <c>credential test</c> and its exit codes, <c>credential set --verify</c>, the HTTP route, the
/// stand-in over HTTPS with a CA of its own, and the settings that say where the provider is.
/// </summary>
public sealed class KeyTestCommandTests : IAsyncLifetime
{
    private const string Team = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718293";

    private readonly NativeBinary _bin = new();
    private ComfyCloudStandIn _standIn = null!;

    public async Task InitializeAsync()
    {
        _standIn = await ComfyCloudStandIn.StartAsync();
        _bin.Environment["ComfyCloud__BaseUrl"] = _standIn.BaseUrl;
        // Sized for a loaded machine, and far below the stand-in's endless hang.
        _bin.Environment["ComfyCloud__TimeoutSeconds"] = "3";
        _bin.Ok("team", "add", Team);
    }

    public async Task DisposeAsync()
    {
        _bin.Dispose();
        await _standIn.DisposeAsync();
    }

    private void StoreKey(string key) => _bin.OkWithInput(key + "\n", "credential", "set", Team);

    [Theory]
    [InlineData(ComfyCloudStandIn.ValidKey, 0, "valid", 200)]
    [InlineData(ComfyCloudStandIn.RejectedKey, 3, "rejected", 401)]
    [InlineData(ComfyCloudStandIn.ServerErrorKey, 4, "unreachable", 500)]
    [InlineData(ComfyCloudStandIn.TooManyRequestsKey, 4, "unreachable", 429)]
    public void Credential_test_prints_the_outcome_and_exits_by_it(string key, int exitCode, string result, int upstream)
    {
        StoreKey(key);
        var run = _bin.Run("credential", "test", Team);
        Assert.Equal((exitCode, ""), (run.ExitCode, run.Stderr));
        var body = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(("comfy_cloud", result, upstream), (body.GetProperty("provider_name").GetString(), body.GetProperty("result").GetString(), body.GetProperty("upstream_status").GetInt32()));
        Assert.Matches(ContractTime.Shape(), body.GetProperty("checked_at").GetString());
    }

    [Fact]
    public void A_provider_that_hangs_is_unreachable_within_the_timeout()
    {
        StoreKey(ComfyCloudStandIn.HangingKey);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = _bin.Run("credential", "test", Team);
        Assert.Equal(4, run.ExitCode);
        Assert.False(JsonDocument.Parse(run.Stdout).RootElement.TryGetProperty("upstream_status", out _));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Fact]
    public void A_test_of_the_stored_key_is_in_the_audit_trail()
    {
        StoreKey(ComfyCloudStandIn.RejectedKey);
        _bin.Run("credential", "test", Team);
        var newest = _bin.Ok("audit", Team).Split('\n')[0].Split('\t');
        Assert.Equal(["test", "cli", "cli", "comfyui-...0bad", "rejected", "401"], newest[2..]);
    }

    [Fact]
    public void Credential_test_without_a_key_exits_1_with_one_line()
    {
        var none = _bin.Run("credential", "test", Team);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("No ComfyUI Cloud credential", none.OneErrorLine(), StringComparison.Ordinal);
        StoreKey(ComfyCloudStandIn.ValidKey);
        _bin.Ok("credential", "revoke", Team);
        var revoked = _bin.Run("credential", "test", Team);
        Assert.Equal(1, revoked.ExitCode);
        Assert.Contains("revoked", revoked.OneErrorLine(), StringComparison.Ordinal);
        Assert.Empty(_standIn.Requests);
    }

    [Fact]
    public void A_verified_set_stores_a_key_the_provider_accepts()
    {
        var output = _bin.OkWithInput(ComfyCloudStandIn.ValidKey + "\n", "credential", "set", Team, "--verify");
        Assert.Equal("comfyui-...a11c", JsonDocument.Parse(output).RootElement.GetProperty("key_preview").GetString());
        Assert.Equal(["set", "cli", "cli", "comfyui-...a11c", "valid", "200"], _bin.Ok("audit", Team).Split('\n')[0].Split('\t')[2..]);
    }

    [Theory]
    [InlineData(ComfyCloudStandIn.RejectedKey, 3, "rejected")]
    [InlineData(ComfyCloudStandIn.DroppingKey, 4, "could not be reached")]
    public void A_verified_set_of_a_key_that_is_not_valid_exits_by_it_and_changes_nothing(string key, int exitCode, string says)
    {
        StoreKey(ComfyCloudStandIn.ValidKey);
        var before = (_bin.Ok("credential", "show", Team), _bin.Ok("audit", Team));
        var run = _bin.RunWithInput(key + "\n", "credential", "set", Team, "--verify");
        Assert.Equal(exitCode, run.ExitCode);
        Assert.Contains(says, run.OneErrorLine(), StringComparison.Ordinal);
        Assert.Equal(before, (_bin.Ok("credential", "show", Team), _bin.Ok("audit", Team)));
    }

    [Fact]
    public async Task The_server_tests_a_key_over_http_and_sends_it_only_in_X_API_Key()
    {
        StoreKey(ComfyCloudStandIn.ValidKey);
        var dk = _bin.Ok("key", "create", Team, "--kind", "dk").TrimEnd('\n');
        var server = await _bin.ServeAsync();
        using var client = server.Client(dk);
        var response = await client.PostAsync("/api/v1/cloud-providers/comfy-cloud/test", null);
        var body = await HttpAssert.Json(response, HttpStatusCode.OK);
        Assert.Equal("valid", body.GetProperty("result").GetString());
        var request = Assert.Single(_standIn.Requests);
        Assert.Equal("/api/user", request.PathAndQuery);
        Assert.Equal([ComfyCloudStandIn.ValidKey], request.Headers.Where(h => h.Value.Contains(ComfyCloudStandIn.ValidKey[8..^4], StringComparison.Ordinal)).Select(h => h.Value));
        Assert.Equal("X-API-Key", request.Headers.Single(h => h.Value == ComfyCloudStandIn.ValidKey).Key);
        await HttpAssert.Error(await client.PostAsync("/api/v1/cloud-providers/comfy-cloud/test", null), HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task Over_https_the_provider_is_trusted_only_through_the_systems_roots()
    {
        await using var https = await ComfyCloudStandIn.StartAsync(httpsCaFolder: Path.Combine(_bin.Folder, "ca"));
        _bin.Environment["ComfyCloud__BaseUrl"] = https.BaseUrl;
        StoreKey(ComfyCloudStandIn.ValidKey);
        // A CA nobody installed: the TLS handshake fails, and that says nothing about the key.
        Assert.Equal(4, _bin.Run("credential", "test", Team).ExitCode);
        Assert.Empty(https.Requests);
        // The stand-in's CA as the system's roots: the same key is valid.
        _bin.Environment["SSL_CERT_FILE"] = https.CaFile!;
        Assert.Equal(0, _bin.Run("credential", "test", Team).ExitCode);
        Assert.Single(https.Requests);
    }

    [Theory]
    [InlineData("ComfyCloud__BaseUrl", "http://cloud.example.com", "must use https")]
    [InlineData("ComfyCloud__BaseUrl", "https://user:secret@cloud.example.com", "without credentials")]
    [InlineData("ComfyCloud__BaseUrl", "cloud.comfy.org", "absolute https URL")]
    [InlineData("ComfyCloud__TimeoutSeconds", "0", "from 1 to 60")]
    [InlineData("ComfyCloud__TimeoutSeconds", "61", "from 1 to 60")]
    public void A_bad_provider_setting_stops_every_command_with_one_line(string key, string value, string says)
    {
        _bin.Environment[key] = value;
        foreach (var command in new[] { new[] { "credential", "show", Team }, ["migrate"] })
        {
            var run = _bin.Run(command);
            Assert.Equal(1, run.ExitCode);
            Assert.Contains(says, run.OneErrorLine(), StringComparison.Ordinal);
            Assert.DoesNotContain("secret", run.Stderr, StringComparison.Ordinal);
        }
    }
}
