using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using CloudProviders.Tests.Support;
using Npgsql;
using Xunit.Abstractions;

namespace CloudProviders.Tests.Native;

/// <summary>
/// The PostgreSQL build as a fleet: its pool through PgBouncer in transaction mode with listeners
/// straight to the server, many instances on one database, and servers that lack what the service
/// needs (LISTEN, advisory locks), stood for by a proxy that rewrites those statements.
/// </summary>
[Trait(TestEngine.Trait, TestEngine.PostgresOnly)]
[Trait(TestLoad.Trait, TestLoad.Fleet)]
public sealed class FleetTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>The fleet's size: as many instances as a 2-core machine starts at once with room to spare.</summary>
    private const int Instances = 40;

    private const string Team = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718293";
    private const string Status = HttpAssert.StatusPath;

    /// <summary>How long the last instance may take to hear of a change: far above the notification's own latency, far below a user's patience.</summary>
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(3);

    private readonly NativeBinary _bin = NativeBinary.WithPostgres();

    private PostgresTestDatabase Database => _bin.Postgres!;

    /// <summary>The pool through the pooler, the listener (and migrations) straight to the server.</summary>
    private void ThroughPooler(PgBouncer pooler)
    {
        _bin.Environment["Database__ConnectionString"] = pooler.Through(Database.ConnectionString);
        _bin.Environment["Database__ListenConnectionString"] = Database.ConnectionString;
    }

    private static async Task<string> Preview(HttpClient client)
    {
        var response = await client.GetAsync(Status);
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("Hots=127.0.0.1", "Database:ListenConnectionString cannot be read")]
    [InlineData("Username=x", "Database:ListenConnectionString has no Host")]
    [InlineData("Host=db.example.com;Username=x", "Database:ListenConnectionString connects to db.example.com without requiring TLS")]
    public void A_listen_connection_string_is_held_to_the_connection_strings_rules(string listen, string says)
    {
        _bin.Environment["Database__ListenConnectionString"] = listen;
        _bin.Run("migrate").AssertOneError(says);
        Assert.Equal(false, Database.Scalar("SELECT to_regclass('schema_version') IS NOT NULL;"));
    }

    [Fact]
    public void A_listen_connection_string_is_postgres_only_and_shares_the_password_file()
    {
        using var sqlite = NativeBinary.WithPostgres(onPostgres: false);
        sqlite.Environment["Database__ListenConnectionString"] = Database.ConnectionString;
        sqlite.Run("migrate").AssertOneError("Database:ListenConnectionString is PostgreSQL's");

        var withoutPassword = new NpgsqlConnectionStringBuilder(Database.ConnectionString);
        var file = Path.Combine(_bin.Folder, "db-password");
        File.WriteAllText(file, withoutPassword.Password + "\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        withoutPassword.Password = null;
        _bin.Environment["Database__PasswordFile"] = file;
        _bin.Environment["Database__ConnectionString"] = withoutPassword.ConnectionString;
        _bin.Environment["Database__ListenConnectionString"] = Database.ConnectionString;
        _bin.Run("migrate").AssertOneError("set twice, in Database:ListenConnectionString and Database:PasswordFile");
        _bin.Environment["Database__ListenConnectionString"] = withoutPassword.ConnectionString;
        Assert.Contains($"schema version {CloudProviders.Storage.Schema.Version}", _bin.Ok("migrate"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Through_pgbouncer_in_transaction_mode_instances_are_one_service_and_leave_no_session_state_behind()
    {
        // One server connection for every client: whatever one transaction left in its session,
        // the next would find there.
        using var pooler = new PgBouncer(poolSize: 1);
        ThroughPooler(pooler);
        var sk = _bin.SeedTeam(Team);
        var servers = await Task.WhenAll(_bin.ServeAsync(), _bin.ServeAsync());
        using var ownerOnA = servers[0].Client(TestKeys.Hs256(TestUsers.Owner), Team);
        using var skOnB = servers[1].Client(sk);
        Assert.Contains("comfyui-...89ab", await Preview(skOnB), StringComparison.Ordinal);

        const string NewKey = "comfyui-feedfacefeedfacefeedfacefeedface";
        SecretLedger.Record(NewKey);
        for (var i = 0; i < 3; i++)
        {
            var put = await ownerOnA.PutAsync(Status, new StringContent($$"""{"api_key":"{{NewKey}}"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        await HttpAssert.Within(Propagation, "B serves the key A stored", async () => (await Preview(skOnB)).Contains("comfyui-...face", StringComparison.Ordinal));
        _bin.Ok("key", "revoke", sk[..12]);
        await HttpAssert.Within(Propagation, "B refuses the revoked key", async () => (await skOnB.GetAsync(Status)).StatusCode == HttpStatusCode.Unauthorized);

        // The one server session the pooler shares: no prepared statement, lock, channel or setting of the service's.
        using var shared = new NpgsqlConnection(pooler.Through(Database.ConnectionString) + ";Application Name=fleet-test");
        shared.Open();
        using var state = new NpgsqlCommand(
            """
            SELECT (SELECT count(*) FROM pg_prepared_statements)
                 + (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())
                 + (SELECT count(*) FROM pg_listening_channels())
                 + (SELECT count(*) FROM pg_settings WHERE source = 'session' AND name <> 'application_name');
            """, shared);
        Assert.Equal(0L, state.ExecuteScalar());
        // The listeners went straight to the server, one each.
        Assert.Equal(2L, Database.Scalar($"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%';"));
    }

    [Fact]
    public async Task A_server_that_does_not_support_listen_is_said_once_and_every_request_reads_through()
    {
        var listens = 0;
        var direct = new NpgsqlConnectionStringBuilder(Database.ConnectionString);
        using var proxy = new TcpProxy(direct.Host!, direct.Port, query =>
        {
            if (!query.StartsWith("LISTEN", StringComparison.Ordinal))
            {
                return query;
            }
            Interlocked.Increment(ref listens);
            // YugabyteDB's answer, from the real server.
            return "DO $$BEGIN RAISE EXCEPTION USING ERRCODE = '0A000', MESSAGE = 'This statement not supported yet'; END$$;";
        });
        proxy.Start();
        _bin.Environment["Database__ConnectionString"] = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Port = proxy.Port, SslMode = SslMode.Disable }.ConnectionString;
        var sk = _bin.SeedTeam(Team);
        var server = await _bin.ServeAsync();
        using var client = server.Client(sk);
        Assert.Contains("\"active\"", await Preview(client), StringComparison.Ordinal);
        Assert.Contains("does not support LISTEN (SQLSTATE 0A000)", await server.OutputWithAsync("does not support LISTEN"), StringComparison.Ordinal);

        // A change no notification tells of is read at the very next request.
        Database.Execute($"UPDATE credentials SET status = 'revoked', cloud_fallback = false, ciphertext = NULL WHERE team_id = '{Team}';");
        Assert.Contains("\"revoked\"", await Preview(client), StringComparison.Ordinal);
        Database.Execute($"UPDATE api_keys SET revoked_at = 1 WHERE prefix = '{sk[..12]}';");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(Status)).StatusCode);

        // Said once, and not asked again: longer than the listener's first retries would take.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(1, Volatile.Read(ref listens));
        Assert.Single(server.Output.Split('\n'), line => line.Contains("LISTEN", StringComparison.Ordinal));
    }

    [Fact]
    public void A_server_whose_advisory_locks_take_nothing_is_refused_before_anything_is_migrated()
    {
        var direct = new NpgsqlConnectionStringBuilder(Database.ConnectionString);
        // CockroachDB's pg_advisory_xact_lock: accepted, and holds nothing.
        using var proxy = new TcpProxy(direct.Host!, direct.Port, query => query.Replace("pg_advisory_xact_lock(", "abs(", StringComparison.Ordinal));
        proxy.Start();
        _bin.Environment["Database__ConnectionString"] = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Port = proxy.Port, SslMode = SslMode.Disable }.ConnectionString;
        _bin.Run("migrate").AssertOneError("took no advisory lock for the migrations");
        Assert.Equal(false, Database.Scalar("SELECT to_regclass('schema_version') IS NOT NULL;"));

        // The same server, straight: migrated.
        _bin.Environment["Database__ConnectionString"] = Database.ConnectionString;
        Assert.Contains($"schema version {CloudProviders.Storage.Schema.Version}", _bin.Ok("migrate"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forty_instances_through_pgbouncer_migrate_once_hear_every_change_and_stay_within_the_connection_budget()
    {
        const int PoolerConnections = 10;
        using var pooler = new PgBouncer(PoolerConnections);
        ThroughPooler(pooler);
        using var peak = new ConnectionPeak(Database.ConnectionString);

        // All at once, on an empty database.
        var servers = await Task.WhenAll(Enumerable.Range(0, Instances).Select(_ => _bin.ServeAsync()));
        foreach (var server in servers)
        {
            using var probe = server.Client();
            await HttpAssert.Within(TimeSpan.FromSeconds(30), "every instance ready", async () => (await probe.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK);
        }
        var sk = _bin.SeedTeam(Team);
        using var owner = servers[0].Client(TestKeys.Hs256(TestUsers.Owner), Team);
        var readers = servers[1..].Select(server => server.Client(sk)).ToArray();
        try
        {
            // A PUT on the first instance, until the last of the others serves it.
            var puts = new List<double>();
            for (var round = 0; round < 20; round++)
            {
                var key = $"comfyui-{round:x32}";
                SecretLedger.Record(key);
                var put = await owner.PutAsync(Status, new StringContent($$"""{"api_key":"{{key}}"}""", Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
                var preview = "comfyui-..." + key[^4..];
                puts.Add(await UntilAllAsync(readers, async reader => (await Preview(reader)).Contains(preview, StringComparison.Ordinal)));
            }

            // A key revoked on the command line, until the last instance refuses it.
            var revokes = new List<double>();
            for (var round = 0; round < 5; round++)
            {
                var revoked = _bin.Ok("key", "create", Team, "--kind", "sk").TrimEnd('\n');
                var clients = servers.Select(server => server.Client(revoked)).ToArray();
                foreach (var client in clients)
                {
                    Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Status)).StatusCode);
                }
                _bin.Ok("key", "revoke", revoked[..12]);
                revokes.Add(await UntilAllAsync(clients, async client => (await client.GetAsync(Status)).StatusCode == HttpStatusCode.Unauthorized));
                Array.ForEach(clients, client => client.Dispose());
            }

            var rss = servers.Sum(server => RssMegabytes(server.Process));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Instances} instances: a PUT seen by the last in p50 {Percentile(puts, 0.5):F1} ms, p99 {Percentile(puts, 0.99):F1} ms; a revoke refused by the last in p50 {Percentile(revokes, 0.5):F1} ms, max {revokes.Max():F1} ms; fleet RSS {rss:F0} MB; server connections at most {peak.Max} (budget {Instances + PoolerConnections + 1})"));
            Assert.All(puts, ms => Assert.True(ms < Propagation.TotalMilliseconds, $"a PUT took {ms:F0} ms to reach the last instance"));
            Assert.All(revokes, ms => Assert.True(ms < Propagation.TotalMilliseconds, $"a revoke took {ms:F0} ms to reach the last instance"));
            // One listener per instance, straight to the server; the pool's connections are the
            // pooler's; and the command line's one while it runs.
            Assert.InRange(peak.Max, Instances, Instances + PoolerConnections + 1);
        }
        finally
        {
            Array.ForEach(readers, reader => reader.Dispose());
        }
        Assert.Equal(1L, Database.Scalar("SELECT count(*) FROM schema_version;"));
        Assert.Equal(CloudProviders.Storage.Schema.Version, Database.Scalar("SELECT version FROM schema_version;"));
        Assert.Equal(1L, Database.Scalar("SELECT count(*) FROM master_key_check;"));
    }

    /// <summary>Polls each client until the condition holds of it; milliseconds until the last one did.</summary>
    private static async Task<double> UntilAllAsync(IEnumerable<HttpClient> clients, Func<HttpClient, Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        var each = await Task.WhenAll(clients.Select(async client =>
        {
            await HttpAssert.Within(Propagation, "the last instance hears of the change", () => condition(client));
            return clock.Elapsed.TotalMilliseconds;
        }));
        return each.Max();
    }

    private static double Percentile(List<double> values, double share)
    {
        var ordered = values.Order().ToList();
        return ordered[Math.Min(ordered.Count - 1, (int)(share * ordered.Count))];
    }

    private static double RssMegabytes(Process process)
    {
        var line = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>The most connections the server held to the test's database at once, sampled every 20 ms (its own sampling connection not counted).</summary>
    private sealed class ConnectionPeak : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _sampling;
        private long _max;

        public ConnectionPeak(string connectionString)
        {
            _sampling = Task.Run(async () =>
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid();", connection);
                while (!_stop.IsCancellationRequested)
                {
                    var now = (long)(await count.ExecuteScalarAsync())!;
                    Interlocked.Exchange(ref _max, Math.Max(Interlocked.Read(ref _max), now));
                    await Task.Delay(20);
                }
            });
        }

        public long Max => Interlocked.Read(ref _max);

        public void Dispose()
        {
            _stop.Cancel();
            _sampling.Wait();
            _stop.Dispose();
        }
    }

    public void Dispose() => _bin.Dispose();
}
