using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Native;

/// <summary><c>GET /metrics</c> on the published binary: Prometheus' own checker accepts it, and a known run of requests moves each counter by exactly what it should.</summary>
public sealed class MetricsTests : IDisposable
{
    private const string Team = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718293";
    private const string Status = HttpAssert.StatusPath;
    private const string Route = "route=\"/api/v1/cloud-providers/comfy-cloud\"";

    private readonly NativeBinary _bin = new();

    private static async Task<(string Text, Dictionary<string, double> Values)> Scrape(HttpClient client)
    {
        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var text = await response.Content.ReadAsStringAsync();
        var values = new Dictionary<string, double>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => !line.StartsWith('#')))
        {
            var space = line.LastIndexOf(' ');
            values[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return (text, values);
    }

    private static double Delta(Dictionary<string, double> before, Dictionary<string, double> after, string series) =>
        after.GetValueOrDefault(series) - before.GetValueOrDefault(series);

    [Fact]
    public async Task Promtool_accepts_the_exposition_and_a_known_run_of_requests_moves_each_counter_exactly()
    {
        _bin.Ok("team", "add", Team);
        _bin.Ok("member", "add", Team, TestUsers.Owner, "--role", "owner");
        _bin.OkWithInput(ServiceFactory.ComfyKey + "\n", "credential", "set", Team);
        var sk = _bin.Ok("key", "create", Team, "--kind", "sk").TrimEnd('\n');
        var revoked = _bin.Ok("key", "create", Team, "--kind", "sk").TrimEnd('\n');
        var server = await _bin.ServeAsync();
        using var anonymous = server.Client();
        var (_, before) = await Scrape(anonymous);

        using (var reader = server.Client(sk))
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(Status)).StatusCode);
            }
        }
        // The first read of a key and of a status goes to the database, the next two come from the caches.
        var (_, afterReads) = await Scrape(anonymous);
        foreach (var cache in new[] { "key", "status" })
        {
            Assert.Equal(1, Delta(before, afterReads, $"cloud_providers_cache_lookups_total{{cache=\"{cache}\",result=\"miss\"}}"));
            Assert.Equal(2, Delta(before, afterReads, $"cloud_providers_cache_lookups_total{{cache=\"{cache}\",result=\"hit\"}}"));
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(Status)).StatusCode);
        using (var garbage = server.Client("garbage"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await garbage.GetAsync(Status)).StatusCode);
        }
        using (var unknown = server.Client("sk-" + new string('u', 43)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await unknown.GetAsync(Status)).StatusCode);
        }
        _bin.Ok("key", "revoke", revoked[..12]);
        if (TestEngine.Postgres)
        {
            // Another process's write reaches this one by notification: far within this.
            await Task.Delay(500);
        }
        using (var gone = server.Client(revoked))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await gone.GetAsync(Status)).StatusCode);
        }
        var anHourAgo = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds();
        var lapsed = TestKeys.Craft("""{"alg":"HS256"}""", $$"""{"iss":"{{TestKeys.Issuer}}","aud":"{{TestKeys.Audience}}","sub":"alice","exp":{{anHourAgo}}}""");
        using (var expired = server.Client(lapsed, Team))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await expired.GetAsync(Status)).StatusCode);
        }
        using (var owner = server.Client(TestKeys.Hs256(TestUsers.Owner), Team))
        {
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(Status)).StatusCode);
            var put = await owner.PutAsync(Status, new StringContent($$"""{"api_key":"{{ServiceFactory.ComfyKey}}"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await owner.DeleteAsync(Status)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/no/such/path-a1b2c3")).StatusCode);
        var (text, after) = await Scrape(anonymous);

        Assert.Equal(3, Delta(before, after, $"cloud_providers_http_requests_total{{{Route},method=\"GET\",status=\"200\",caller=\"sk\"}}"));
        Assert.Equal(1, Delta(before, after, $"cloud_providers_http_requests_total{{{Route},method=\"GET\",status=\"200\",caller=\"jwt\"}}"));
        Assert.Equal(1, Delta(before, after, $"cloud_providers_http_requests_total{{{Route},method=\"PUT\",status=\"200\",caller=\"jwt\"}}"));
        Assert.Equal(1, Delta(before, after, $"cloud_providers_http_requests_total{{{Route},method=\"DELETE\",status=\"200\",caller=\"jwt\"}}"));
        Assert.Equal(5, Delta(before, after, $"cloud_providers_http_requests_total{{{Route},method=\"GET\",status=\"401\",caller=\"anonymous\"}}"));
        Assert.Equal(1, Delta(before, after, "cloud_providers_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\",caller=\"anonymous\"}"));
        Assert.Equal(2, Delta(before, after, "cloud_providers_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"200\",caller=\"anonymous\"}"));
        Assert.Equal(9, Delta(before, after, $"cloud_providers_http_request_duration_seconds_count{{{Route},method=\"GET\"}}"));
        Assert.Equal(9, Delta(before, after, $"cloud_providers_http_request_duration_seconds_bucket{{{Route},method=\"GET\",le=\"+Inf\"}}"));
        foreach (var reason in new[] { "missing", "malformed", "unknown_key", "revoked", "expired" })
        {
            Assert.Equal(1, Delta(before, after, $"cloud_providers_auth_refusals_total{{reason=\"{reason}\"}}"));
        }
        Assert.Equal(1, Delta(before, after, "cloud_providers_credential_writes_total{action=\"replace\"}"));
        Assert.Equal(1, Delta(before, after, "cloud_providers_credential_writes_total{action=\"revoke\"}"));
        var (flavour, engine) = TestEngine.Postgres ? ("postgres", "postgres") : ("default", "sqlite");
        Assert.Equal(1, after[$"cloud_providers_build_info{{version=\"0.3.0\",flavour=\"{flavour}\",engine=\"{engine}\"}}"]);
        Assert.True(after["process_resident_memory_bytes"] > 1_000_000);
        Assert.True(after["process_start_time_seconds"] > DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds());
        Assert.Contains("dotnet_gc_collections_total{generation=\"0\"}", after.Keys);
        Assert.True(Delta(before, after, "dotnet_gc_allocated_bytes_total") > 0);
        // Bounded labels: no path, team, user or key a client sent.
        foreach (var sent in new[] { "a1b2c3", Team, TestUsers.Owner, sk[..12], "garbage" })
        {
            Assert.DoesNotContain(sent, text, StringComparison.Ordinal);
        }

        using var promtool = Process.Start(new ProcessStartInfo("promtool", "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        await promtool.StandardInput.WriteAsync(text);
        promtool.StandardInput.Close();
        var problems = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        await promtool.WaitForExitAsync();
        Assert.True(promtool.ExitCode == 0 && problems.Trim().Length == 0, $"promtool check metrics: {problems}");
    }

    [Fact]
    public async Task With_metrics_off_the_path_is_a_404()
    {
        _bin.Environment["Metrics__Enabled"] = "false";
        var server = await _bin.ServeAsync();
        using var client = server.Client();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/metrics")).StatusCode);
    }

    public void Dispose() => _bin.Dispose();
}
