using System.Collections.Concurrent;
using System.Net;
using System.Text;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Native;

/// <summary>
/// Four instances behind a real HAProxy on a PostgreSQL server of the test's own, under a steady
/// load of status reads and PUTs through the balancer: replaced one by one, and through a restart
/// of the database itself.
/// </summary>
[Trait(TestEngine.Trait, TestEngine.PostgresOnly)]
[Trait(TestLoad.Trait, TestLoad.Fleet)]
public sealed class LoadBalancedFleetTests : IDisposable
{
    private const string Team = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718293";
    private const string Status = HttpAssert.StatusPath;
    private const int Instances = 4;

    private readonly PostgresServer _database = new();
    private readonly NativeBinary _bin = NativeBinary.WithPostgres();
    private readonly int[] _ports = [.. Enumerable.Range(0, Instances).Select(_ => NativeBinary.FreePort())];

    public LoadBalancedFleetTests()
    {
        _bin.Environment["Database__ConnectionString"] = _database.ConnectionString;
        // Longer than the balancer takes to see readiness turn (two checks 100 ms apart), with room for a loaded machine.
        _bin.Environment["Shutdown__DrainSeconds"] = "2";
    }

    private static HttpClient Through(HaProxy proxy, string bearer, string? team = null)
    {
        var client = new HttpClient { BaseAddress = proxy.BaseAddress, Timeout = TimeSpan.FromSeconds(15) };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        if (team is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("X-Team-ID", team);
        }
        return client;
    }

    /// <summary>Four workers through the balancer, each alternating a status read and a PUT of a key of its own, until stopped; every answer recorded.</summary>
    private sealed class Load
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly HttpClient _reader;
        private readonly HttpClient _owner;
        private readonly Task[] _workers;

        public Load(HaProxy proxy, string sk)
        {
            _reader = Through(proxy, sk);
            _owner = Through(proxy, TestKeys.Hs256(TestUsers.Owner), Team);
            _workers = [.. Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
            {
                for (var i = 0; !_stop.IsCancellationRequested; i++)
                {
                    var key = $"comfyui-{new string('0', 28)}{(worker * 4096) + (i / 2):x4}";
                    var put = i % 2 == 1;
                    try
                    {
                        if (put)
                        {
                            SecretLedger.Record(key);
                        }
                        using var response = put
                            ? await _owner.PutAsync(Status, new StringContent($$"""{"api_key":"{{key}}"}""", Encoding.UTF8, "application/json"))
                            : await _reader.GetAsync(Status);
                        Answers.Add((response.StatusCode, response.Headers.RetryAfter is not null));
                        if (put && response.StatusCode == HttpStatusCode.OK)
                        {
                            Acknowledged.Add(key);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        Failures.Add(e.Message);
                    }
                }
            }))];
        }

        public ConcurrentBag<(HttpStatusCode Code, bool RetryAfter)> Answers { get; } = [];

        public ConcurrentBag<string> Acknowledged { get; } = [];

        public ConcurrentBag<string> Failures { get; } = [];

        public async Task StopAsync()
        {
            _stop.Cancel();
            await Task.WhenAll(_workers);
            _reader.Dispose();
            _owner.Dispose();
        }
    }

    /// <summary>Every acknowledged PUT is in the audit trail, by its preview (each key's last four characters are its own).</summary>
    private void AssertNoneLost(Load load)
    {
        using var connection = new Npgsql.NpgsqlConnection(_database.ConnectionString);
        connection.Open();
        using var previews = new Npgsql.NpgsqlCommand("SELECT key_preview FROM credential_audit WHERE key_preview IS NOT NULL;", connection);
        using var reader = previews.ExecuteReader();
        var audited = new HashSet<string>();
        while (reader.Read())
        {
            audited.Add(reader.GetString(0));
        }
        Assert.NotEmpty(load.Acknowledged);
        Assert.All(load.Acknowledged, key => Assert.Contains("comfyui-..." + key[^4..], audited));
    }

    /// <summary>The seeded fleet behind the balancer, every instance in its rotation, under load.</summary>
    private async Task<(HaProxy Proxy, NativeBinary.Server[] Servers, Load Load)> UnderLoadAsync()
    {
        var sk = _bin.SeedTeam(Team);
        var proxy = new HaProxy(_ports);
        var servers = await Task.WhenAll(_ports.Select(port => _bin.ServeAsync(port: port)));
        using (var probe = Through(proxy, sk))
        {
            await HttpAssert.Within(TimeSpan.FromSeconds(15), "the balancer serves", async () => (await probe.GetAsync(Status)).StatusCode == HttpStatusCode.OK);
        }
        // Two passed checks, 100 ms apart, put each server in the rotation.
        await Task.Delay(500);
        var load = new Load(proxy, sk);
        await Task.Delay(1000);
        return (proxy, servers, load);
    }

    [Fact]
    public async Task A_rolling_restart_under_load_fails_no_request_and_loses_no_acknowledged_put()
    {
        var (proxy, servers, load) = await UnderLoadAsync();
        using var _ = proxy;

        for (var i = 0; i < Instances; i++)
        {
            // SIGTERM: readiness turns, the balancer takes the instance out, requests in flight finish, it exits 0.
            await servers[i].StopAsync();
            Assert.Equal(0, servers[i].Process.ExitCode);
            servers[i] = await _bin.ServeAsync(port: _ports[i]);
            using var direct = servers[i].Client();
            await HttpAssert.Within(TimeSpan.FromSeconds(15), "the new instance ready", async () => (await direct.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK);
            // The balancer puts it back after two passed checks, 100 ms apart.
            await Task.Delay(500);
        }
        await load.StopAsync();

        Assert.Empty(load.Failures);
        Assert.All(load.Answers, answer => Assert.Equal(HttpStatusCode.OK, answer.Code));
        Assert.True(load.Answers.Count > 100, $"only {load.Answers.Count} requests");
        AssertNoneLost(load);
        // Each replaced instance was taken out of the rotation and put back.
        Assert.All(Enumerable.Range(0, Instances), i => Assert.Contains($"Server ready/s{i} is DOWN", proxy.Output, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_database_restart_under_load_answers_only_2xx_or_503_with_retry_after_and_the_fleet_recovers_by_itself()
    {
        var (proxy, servers, load) = await UnderLoadAsync();
        using var _ = proxy;
        _database.Restart();
        await Task.Delay(1000);
        // Recovered without a restart of its own: every instance serves a read and a write again.
        foreach (var server in servers)
        {
            using var direct = server.Client(TestKeys.Hs256(TestUsers.Owner), Team);
            await HttpAssert.Within(TimeSpan.FromSeconds(15), "the instance serves again", async () =>
                (await direct.PutAsync(Status, new StringContent($$"""{"api_key":"{{ServiceFactory.ComfyKey}}"}""", Encoding.UTF8, "application/json"))).StatusCode == HttpStatusCode.OK
                && (await direct.GetAsync(Status)).StatusCode == HttpStatusCode.OK);
        }
        await Task.Delay(500);
        await load.StopAsync();

        Assert.Empty(load.Failures);
        Assert.All(load.Answers, answer => Assert.True(answer.Code == HttpStatusCode.OK || (answer.Code == HttpStatusCode.ServiceUnavailable && answer.RetryAfter), $"answered {(int)answer.Code}{(answer.RetryAfter ? "" : " without Retry-After")}"));
        // The restart reached every instance: each lost its listening connection and has it back, by itself.
        foreach (var server in servers)
        {
            Assert.False(server.Process.HasExited);
            await HttpAssert.Within(TimeSpan.FromSeconds(15), "the instance listens again", () => Task.FromResult(server.Output.Contains("are back", StringComparison.Ordinal)));
            Assert.Contains("Change notifications from the PostgreSQL database postgres", server.Output, StringComparison.Ordinal);
        }
        AssertNoneLost(load);
    }

    public void Dispose()
    {
        _bin.Dispose();
        _database.Dispose();
    }
}
