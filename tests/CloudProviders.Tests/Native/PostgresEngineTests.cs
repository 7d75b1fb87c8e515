using System.Diagnostics;
using System.Net;
using System.Text;
using CloudProviders.Tests.Support;
using Npgsql;

namespace CloudProviders.Tests.Native;

/// <summary>
/// The PostgreSQL build on a real server: its settings, its schema's migrations, and several
/// instances on one database behaving as one service. The contract itself runs on PostgreSQL in
/// the second run of the suite; these are what only PostgreSQL has.
/// </summary>
[Trait(TestEngine.Trait, TestEngine.PostgresOnly)]
public sealed class PostgresEngineTests : IDisposable
{
    private const string Team = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718293";
    private const string Status = HttpAssert.StatusPath;

    /// <summary>How long another instance may take to hear of a change: far above the notification's own latency, far below a user's patience.</summary>
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(3);

    private readonly NativeBinary _bin = NativeBinary.WithPostgres();

    private PostgresTestDatabase Database => _bin.Postgres!;

    private string Seed()
    {
        var sk = _bin.SeedTeam(Team);
        _bin.Ok("member", "add", Team, TestUsers.Member, "--role", "member");
        return sk;
    }

    private static async Task<string> Preview(HttpClient client)
    {
        var response = await client.GetAsync(Status);
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void The_default_build_refuses_the_postgres_engine_with_one_line_that_names_the_build()
    {
        using var defaultBuild = new NativeBinary(NativeBinary.DefaultPath);
        defaultBuild.Environment["Database__Engine"] = "postgres";
        defaultBuild.Environment["Database__ConnectionString"] = Database.ConnectionString;
        defaultBuild.RunExactly(null, "migrate").AssertOneError("-p:Postgres=true");
        Assert.Equal(false, Database.Scalar("SELECT to_regclass('schema_version') IS NOT NULL;"));
    }

    [Theory]
    [InlineData(null, null, "needs Database:ConnectionString")]
    [InlineData("Host=127.0.0.1;Username=x", "--db", "is SQLite's")]
    [InlineData("Host=db.example.com;Username=x", null, "connects to db.example.com without requiring TLS")]
    [InlineData("Host=127.0.0.1,db.example.com;Username=x;SSL Mode=Prefer", null, "without requiring TLS")]
    [InlineData("Hots=127.0.0.1", null, "cannot be read")]
    [InlineData("Username=x", null, "has no Host")]
    public void A_postgres_setting_that_is_missing_wrong_or_unsafe_stops_with_one_line(string? connectionString, string? withDb, string says)
    {
        _bin.Environment.Remove("Database__ConnectionString");
        if (connectionString is not null)
        {
            _bin.Environment["Database__ConnectionString"] = connectionString;
        }
        string[] args = withDb is null ? ["migrate"] : ["migrate", "--db", Path.Combine(_bin.Folder, "x.db")];
        _bin.RunExactly(null, args).AssertOneError(says);
        Assert.False(File.Exists(Path.Combine(_bin.Folder, "x.db")));
    }

    [Fact]
    public void Sqlite_is_the_default_even_in_the_postgres_build_and_refuses_postgres_settings()
    {
        using var sqlite = NativeBinary.WithPostgres(onPostgres: false);
        sqlite.Ok("team", "add", Team);
        sqlite.Environment["Database__ConnectionString"] = Database.ConnectionString;
        sqlite.Run("migrate").AssertOneError("Database:ConnectionString is PostgreSQL's");
        sqlite.Environment.Remove("Database__ConnectionString");
        sqlite.Environment["Database__Engine"] = "mysql";
        sqlite.Run("migrate").AssertOneError("must be sqlite (the default) or postgres");
    }

    [Fact]
    public void The_password_can_come_from_a_file_held_to_the_key_files_rules()
    {
        var settings = new NpgsqlConnectionStringBuilder(Database.ConnectionString);
        var password = settings.Password!;
        settings.Password = null;
        var file = Path.Combine(_bin.Folder, "db-password");
        File.WriteAllText(file, password + "\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _bin.Environment["Database__ConnectionString"] = settings.ConnectionString;
        _bin.Environment["Database__PasswordFile"] = file;
        Assert.Contains($"schema version {CloudProviders.Storage.Schema.Version}", _bin.Ok("migrate"), StringComparison.Ordinal);

        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
        _bin.Run("migrate").AssertOneError("chmod go-w");

        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _bin.Environment["Database__ConnectionString"] = Database.ConnectionString;
        _bin.Run("migrate").AssertOneError("set twice");
    }

    [Fact]
    public void Tls_with_verify_full_works_against_the_servers_own_ca_and_a_wrong_ca_is_refused()
    {
        var ca = System.Environment.GetEnvironmentVariable("CLOUD_PROVIDERS_TEST_POSTGRES_CA")
            ?? throw new InvalidOperationException("CLOUD_PROVIDERS_TEST_POSTGRES_CA is not set: run the tests through bash tests/run.sh.");
        var settings = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Host = "localhost", SslMode = SslMode.VerifyFull, RootCertificate = ca };
        _bin.Environment["Database__ConnectionString"] = settings.ConnectionString;
        Assert.Contains($"schema version {CloudProviders.Storage.Schema.Version}", _bin.Ok("migrate"), StringComparison.Ordinal);

        var otherCa = Path.Combine(_bin.Folder, "other-ca.pem");
        using (var key = System.Security.Cryptography.ECDsa.Create())
        {
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=another CA", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, false, 0, true));
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            File.WriteAllText(otherCa, certificate.ExportCertificatePem());
        }
        settings.RootCertificate = otherCa;
        _bin.Environment["Database__ConnectionString"] = settings.ConnectionString;
        _bin.Run("migrate").AssertOneError("TLS to PostgreSQL failed");
    }

    [Fact]
    public void Without_the_master_key_or_with_another_one_nothing_is_written()
    {
        var keyFile = _bin.Environment["Encryption__KeyFile"];
        _bin.Environment.Remove("Encryption__KeyFile");
        _bin.Run("team", "add", Team).AssertOneError("needs the same master key");
        Assert.Equal(false, Database.Scalar("SELECT to_regclass('teams') IS NOT NULL;"));

        _bin.Environment["Encryption__KeyFile"] = keyFile;
        Seed();
        var other = Path.Combine(_bin.Folder, "other.key");
        File.WriteAllText(other, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");
        File.SetUnixFileMode(other, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _bin.Environment["Encryption__KeyFile"] = other;
        var before = Database.Dump();
        _bin.RunWithInput("comfyui-ffffffffffffffffffffffffffffffff\n", "credential", "set", Team).AssertOneError("is not the one");
        Assert.Equal(before, Database.Dump());
    }

    [Fact]
    public async Task Four_instances_starting_at_once_on_an_empty_database_migrate_it_once()
    {
        var servers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _bin.ServeAsync()));
        foreach (var server in servers)
        {
            using var client = server.Client();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
        }
        Assert.Equal(1L, Database.Scalar("SELECT count(*) FROM schema_version;"));
        Assert.Equal(CloudProviders.Storage.Schema.Version, Database.Scalar("SELECT version FROM schema_version;"));
        Assert.Equal(1L, Database.Scalar("SELECT count(*) FROM master_key_check;"));
    }

    [Fact]
    public async Task A_database_from_a_newer_binary_is_refused_and_readiness_says_why()
    {
        var server = await _bin.ServeAsync();
        Database.Execute("UPDATE schema_version SET version = 99;");
        using var client = server.Client();
        var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("version 99", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        _bin.Run("migrate").AssertOneError("newer than this binary's");
    }

    [Fact]
    public async Task Two_instances_on_one_database_are_one_service()
    {
        var sk = Seed();
        var a = await _bin.ServeAsync();
        var b = await _bin.ServeAsync();
        using var ownerOnA = a.Client(TestKeys.Hs256(TestUsers.Owner), Team);
        using var skOnA = a.Client(sk);
        using var skOnB = b.Client(sk);
        using var bobOnB = b.Client(TestKeys.Hs256(TestUsers.Member), Team);
        Assert.Contains("comfyui-...89ab", await Preview(skOnB), StringComparison.Ordinal);

        // A write on A is read on B.
        const string NewKey = "comfyui-feedfacefeedfacefeedfacefeedface";
        SecretLedger.Record(NewKey);
        var put = await ownerOnA.PutAsync(Status, new StringContent($$"""{"api_key":"{{NewKey}}","cloud_fallback":true}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        await HttpAssert.Within(Propagation, "B serves the key A stored", async () => (await Preview(skOnB)).Contains("comfyui-...face", StringComparison.Ordinal));
        Assert.Equal(2L, Database.Scalar("SELECT count(*) FROM credential_audit;"));

        // A member removed by the command line is refused on both.
        Assert.Equal(HttpStatusCode.OK, (await bobOnB.GetAsync(Status)).StatusCode);
        _bin.Ok("member", "remove", Team, TestUsers.Member);
        using var bobOnA = a.Client(TestKeys.Hs256(TestUsers.Member), Team);
        await HttpAssert.Within(Propagation, "B refuses the removed member", async () => (await bobOnB.GetAsync(Status)).StatusCode == HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.Forbidden, (await bobOnA.GetAsync(Status)).StatusCode);

        // A key revoked by the command line is refused by both.
        var prefix = sk[..12];
        _bin.Ok("key", "revoke", prefix);
        await HttpAssert.Within(Propagation, "A refuses the revoked key", async () => (await skOnA.GetAsync(Status)).StatusCode == HttpStatusCode.Unauthorized);
        await HttpAssert.Within(Propagation, "B refuses the revoked key", async () => (await skOnB.GetAsync(Status)).StatusCode == HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Without_its_listening_connection_an_instance_reads_through_and_then_recovers_by_itself()
    {
        var sk = Seed();
        var b = await _bin.ServeAsync();
        using var client = b.Client(sk);
        Assert.Contains("\"active\"", await Preview(client), StringComparison.Ordinal);
        const string Listening = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%';";
        Assert.Equal(1L, Database.Scalar(Listening));

        Database.Execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%';");
        // The server tells B's listener at once; this leaves B's thread pool time to hear it on a loaded machine.
        await Task.Delay(500);
        // A change no notification tells B of: B, not listening, must read it anyway.
        Database.Execute($"UPDATE credentials SET status = 'revoked', cloud_fallback = false, ciphertext = NULL WHERE team_id = '{Team}';");
        Assert.Contains("\"revoked\"", await Preview(client), StringComparison.Ordinal);

        // B listens again by itself, and hears the next change.
        await HttpAssert.Within(Propagation, "B listens again", () => Task.FromResult(Database.Scalar(Listening) is 1L));
        Assert.Contains("\"revoked\"", await Preview(client), StringComparison.Ordinal);
        _bin.OkWithInput(ServiceFactory.ComfyKey + "\n", "credential", "set", Team);
        await HttpAssert.Within(Propagation, "B serves the key set after it reconnected", async () => (await Preview(client)).Contains("\"active\"", StringComparison.Ordinal));
        Assert.Contains("Change notifications from the PostgreSQL database", b.Output, StringComparison.Ordinal);
        Assert.Contains("are back", b.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_instances_writing_one_credential_at_once_leave_the_last_writers_whole_row_and_every_write_audited()
    {
        Seed();
        // About correctness under contention, not the default timeouts: on a loaded machine forty
        // writers in line for one row can outlast five seconds.
        _bin.Environment["Database__ConnectionString"] = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { CommandTimeout = 60, Timeout = 60 }.ConnectionString;
        var a = await _bin.ServeAsync();
        var b = await _bin.ServeAsync();
        using var onA = a.Client(TestKeys.Hs256(TestUsers.Owner), Team);
        using var onB = b.Client(TestKeys.Hs256(TestUsers.Owner), Team);
        var statuses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            var key = $"comfyui-{new string('0', 28)}{i:x4}";
            SecretLedger.Record(key);
            var response = await (i % 2 == 0 ? onA : onB).PutAsync(Status, new StringContent($$"""{"api_key":"{{key}}","cloud_fallback":{{(i % 3 == 0 ? "true" : "false")}}}""", Encoding.UTF8, "application/json"));
            return response.StatusCode;
        }));
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(40L, Database.Scalar("SELECT count(*) FROM credential_audit WHERE action = 'replace';"));
        // Writers took turns on the team's row: the newest audit row is the row that stands, whole.
        var last = (string)Database.Scalar("SELECT key_preview FROM credential_audit ORDER BY id DESC LIMIT 1;")!;
        Assert.Equal(last, Database.Scalar("SELECT key_preview FROM credentials;"));
        var lastFallback = Convert.ToInt32(last[^4..], 16) % 3 == 0;
        Assert.Equal(lastFallback, Database.Scalar("SELECT cloud_fallback FROM credentials;"));
        await HttpAssert.Within(Propagation, "both instances serve the last write", async () =>
            (await Preview(onA)).Contains(last, StringComparison.Ordinal) && (await Preview(onB)).Contains(last, StringComparison.Ordinal));
        // And its ciphertext is whole: rotation opens every stored key, or changes nothing.
        var next = Path.Combine(_bin.Folder, "next.key");
        File.WriteAllText(next, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");
        File.SetUnixFileMode(next, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.StartsWith("Re-encrypted 1 key(s).", _bin.Ok("encryption", "rotate", "--new-key-file", next), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sqlite_database_moves_up_to_postgres_with_every_status_key_and_audit_row()
    {
        const string Other = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718294";
        using var sqlite = NativeBinary.WithPostgres(onPostgres: false);
        sqlite.Ok("team", "add", Team, "--name", "Acme");
        sqlite.Ok("team", "add", Other);
        sqlite.Ok("member", "add", Team, TestUsers.Owner, "--role", "owner");
        sqlite.Ok("member", "add", Team, "vera", "--role", "viewer");
        sqlite.Ok("member", "add", Other, "erin", "--role", "admin");
        var sk = sqlite.Ok("key", "create", Team, "--kind", "sk").TrimEnd('\n');
        var dk = sqlite.Ok("key", "create", Team, "--kind", "dk", "--expires-in", "30").TrimEnd('\n');
        var revoked = sqlite.Ok("key", "create", Other, "--kind", "sk").TrimEnd('\n');
        sqlite.Ok("key", "revoke", revoked[..12]);
        sqlite.OkWithInput("comfyui-11111111111111111111111111111111\n", "credential", "set", Team);
        sqlite.OkWithInput(ServiceFactory.ComfyKey + "\n", "credential", "set", Team, "--cloud-fallback");
        sqlite.OkWithInput("comfyui-22222222222222222222222222222222\n", "credential", "set", Other);
        sqlite.Ok("credential", "revoke", Other);
        string[][] views = [["credential", "show", Team], ["credential", "show", Other], ["key", "list", Team], ["key", "list", Other],
            ["member", "list", Team], ["member", "list", Other], ["audit", Team], ["audit", Other]];
        var before = views.Select(view => sqlite.Ok(view)).ToArray();
        var sourceBytes = File.ReadAllBytes(sqlite.DatabasePath);

        // Under another master key nothing happens, not even the target's schema.
        var otherKey = Path.Combine(_bin.Folder, "other.key");
        File.WriteAllText(otherKey, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");
        File.SetUnixFileMode(otherKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _bin.Environment["Encryption__KeyFile"] = otherKey;
        _bin.Run("import", "--from-sqlite", sqlite.DatabasePath).AssertOneError("is not the one");
        Assert.Equal(false, Database.Scalar("SELECT to_regclass('teams') IS NOT NULL;"));

        // Under the source's own key (its development key file), everything moves.
        _bin.Environment["Encryption__KeyFile"] = sqlite.DatabasePath + ".key";
        Assert.Equal("teams\t2\nmembers\t3\napi_keys\t3\ncredentials\t2\ncredential_audit\t4\n", _bin.Ok("import", "--from-sqlite", sqlite.DatabasePath));
        Assert.Equal(sourceBytes, File.ReadAllBytes(sqlite.DatabasePath));
        Assert.Equal(before, views.Select(view => _bin.Ok(view)).ToArray());

        // The API on PostgreSQL answers as it did on SQLite.
        var server = await _bin.ServeAsync();
        foreach (var client in new[] { server.Client(sk), server.Client(dk, Team), server.Client(TestKeys.Hs256(TestUsers.Owner), Team), server.Client(TestKeys.Hs256("vera"), Team) })
        {
            using (client)
            {
                var response = await client.GetAsync(Status);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(before[0].TrimEnd('\n'), await response.Content.ReadAsStringAsync());
            }
        }
        using (var gone = server.Client(revoked))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await gone.GetAsync(Status)).StatusCode);
        }

        // Once is all: the target holds data now. New rows continue after the imported ones.
        _bin.Run("import", "--from-sqlite", sqlite.DatabasePath).AssertOneError("already holds data");
        _bin.Ok("key", "create", Team, "--kind", "sk");
        _bin.OkWithInput(ServiceFactory.ComfyKey + "\n", "credential", "set", Team);
        Assert.Equal(5L, Database.Scalar("SELECT count(*) FROM credential_audit;"));
    }

    [Fact]
    public void Import_needs_postgres_as_the_target()
    {
        using var sqlite = NativeBinary.WithPostgres(onPostgres: false);
        sqlite.Ok("migrate");
        var result = sqlite.RunExactly(null, "import", "--from-sqlite", sqlite.DatabasePath, "--db", Path.Combine(sqlite.Folder, "target.db"));
        result.AssertOneError("set Database:Engine=postgres");
        using var defaultBuild = new NativeBinary(NativeBinary.DefaultPath);
        defaultBuild.RunExactly(null, "import", "--from-sqlite", sqlite.DatabasePath, "--db", Path.Combine(sqlite.Folder, "target.db")).AssertOneError("-p:Postgres=true");
        _bin.Run("import", "--from-sqlite", Path.Combine(sqlite.Folder, "missing.db")).AssertOneError("does not exist");
    }

    /// <summary>A proxy in front of the fixture's server, and the service pointed at it (with these connection settings).</summary>
    private TcpProxy Proxied(Action<NpgsqlConnectionStringBuilder>? settings = null)
    {
        var direct = new NpgsqlConnectionStringBuilder(Database.ConnectionString);
        var proxy = new TcpProxy(direct.Host!, direct.Port);
        var through = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Port = proxy.Port };
        settings?.Invoke(through);
        _bin.Environment["Database__ConnectionString"] = through.ConnectionString;
        return proxy;
    }

    /// <summary>The command line, straight to the server (not through a proxy a test has stopped).</summary>
    private NativeBinary.Result Direct(string? stdin, params string[] args)
    {
        var through = _bin.Environment["Database__ConnectionString"];
        _bin.Environment["Database__ConnectionString"] = Database.ConnectionString;
        try
        {
            return _bin.RunWithInput(stdin, args);
        }
        finally
        {
            _bin.Environment["Database__ConnectionString"] = through;
        }
    }

    [Fact]
    public async Task Down_at_start_the_service_starts_answers_503_and_becomes_ready_when_the_database_comes_up()
    {
        using var proxy = Proxied();
        var server = await _bin.ServeAsync();
        using var client = server.Client(TestKeys.Hs256(TestUsers.Owner), Team);
        var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var status = await client.GetAsync(Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status.StatusCode);
        Assert.Equal("1", status.Headers.RetryAfter?.ToString());
        Assert.Contains("not ready", await server.OutputWithAsync("not ready"), StringComparison.Ordinal);

        proxy.Start();
        await HttpAssert.Within(TimeSpan.FromSeconds(15), "ready once the database is up", async () => (await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK);
        Assert.Equal(0, Direct(null, "team", "add", Team).ExitCode);
        Assert.Equal(0, Direct(null, "member", "add", Team, TestUsers.Owner, "--role", "owner").ExitCode);
        Assert.Equal(0, Direct(ServiceFactory.ComfyKey + "\n", "credential", "set", Team).ExitCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Status)).StatusCode);
    }

    [Fact]
    public async Task A_migration_held_by_another_instance_is_waited_for()
    {
        using var holder = new NpgsqlConnection(Database.ConnectionString);
        holder.Open();
        using (var lockIt = new NpgsqlCommand($"SELECT pg_advisory_lock({CloudProviders.Storage.PostgresSchema.MigrationLock});", holder))
        {
            lockIt.ExecuteNonQuery();
        }
        _bin.Environment["Database__ConnectionString"] = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { CommandTimeout = 1 }.ConnectionString;
        var server = await _bin.ServeAsync();
        using var client = server.Client();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/readyz")).StatusCode);

        using (var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({CloudProviders.Storage.PostgresSchema.MigrationLock});", holder))
        {
            unlock.ExecuteNonQuery();
        }
        await HttpAssert.Within(TimeSpan.FromSeconds(15), "ready once the lock is released", async () => (await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK);
        Assert.Equal(CloudProviders.Storage.Schema.Version, Database.Scalar("SELECT version FROM schema_version;"));
    }

    [Fact]
    public async Task Restarted_under_load_requests_get_503_never_500_and_nothing_acknowledged_is_lost()
    {
        Seed();
        using var proxy = Proxied();
        proxy.Start();
        var server = await _bin.ServeAsync();
        using var owner = server.Client(TestKeys.Hs256(TestUsers.Owner), Team);
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
        var statuses = new System.Collections.Concurrent.ConcurrentBag<(HttpStatusCode Code, bool RetryAfter)>();
        var clock = Stopwatch.StartNew();
        var load = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; clock.Elapsed < TimeSpan.FromSeconds(4); i++)
            {
                var key = $"comfyui-{new string('0', 28)}{(worker * 4096) + i:x4}";
                SecretLedger.Record(key);
                var response = i % 2 == 0
                    ? await owner.PutAsync(Status, new StringContent($$"""{"api_key":"{{key}}"}""", Encoding.UTF8, "application/json"))
                    : await owner.GetAsync(Status);
                statuses.Add((response.StatusCode, response.Headers.RetryAfter is not null));
                if (i % 2 == 0 && response.StatusCode == HttpStatusCode.OK)
                {
                    acknowledged.Add(key);
                }
            }
        })).ToArray();
        await Task.Delay(1000);
        proxy.Stop();
        await Task.Delay(1000);
        proxy.Start();
        await Task.WhenAll(load);

        Assert.All(statuses, s => Assert.True(s.Code is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"answered {(int)s.Code}"));
        Assert.All(statuses.Where(s => s.Code == HttpStatusCode.ServiceUnavailable), s => Assert.True(s.RetryAfter));
        Assert.Contains(statuses, s => s.Code == HttpStatusCode.ServiceUnavailable);
        Assert.NotEmpty(acknowledged);
        await HttpAssert.Within(TimeSpan.FromSeconds(15), "serving again after the restart", async () => (await owner.GetAsync(Status)).StatusCode == HttpStatusCode.OK);
        // Every acknowledged write is in the audit trail, by its preview (each key's last four characters are its own).
        var audited = Database.Dump();
        Assert.All(acknowledged, key => Assert.Contains("comfyui-..." + key[^4..], audited, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_slow_database_is_bounded_by_the_command_timeout_and_an_exhausted_pool_answers_503()
    {
        var sk = Seed();
        _bin.Environment["Database__ConnectionString"] = new NpgsqlConnectionStringBuilder(Database.ConnectionString)
        {
            CommandTimeout = 3,
            Timeout = 1,
            MaxPoolSize = 2,
        }.ConnectionString;
        var server = await _bin.ServeAsync();
        using var owner = server.Client(TestKeys.Hs256(TestUsers.Owner), Team);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(Status)).StatusCode);

        using var holder = new NpgsqlConnection(Database.ConnectionString);
        holder.Open();
        using var transaction = holder.BeginTransaction();
        using (var lockIt = new NpgsqlCommand("LOCK TABLE credentials IN ACCESS EXCLUSIVE MODE;", holder, transaction))
        {
            lockIt.ExecuteNonQuery();
        }
        var clock = Stopwatch.StartNew();
        // Two writes wait on the lock, holding both of the pool's connections.
        var writes = Enumerable.Range(0, 2).Select(_ => owner.PutAsync(Status, new StringContent($$"""{"api_key":"{{ServiceFactory.ComfyKey}}"}""", Encoding.UTF8, "application/json"))).ToArray();
        await Task.Delay(300);
        // A read that needs the database (a key not seen yet) finds the pool empty.
        using var stranger = server.Client("sk-" + new string('A', 43));
        var starved = await stranger.GetAsync(Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, starved.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"the pool wait took {clock.Elapsed}");
        foreach (var write in writes)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await write).StatusCode);
        }
        // The second write waits its turn on the team's row, then on the table: two timeouts at most.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(7.5), $"the writes took {clock.Elapsed}");
        transaction.Rollback();
        Assert.Equal(HttpStatusCode.OK, (await owner.PutAsync(Status, new StringContent($$"""{"api_key":"{{ServiceFactory.ComfyKey}}"}""", Encoding.UTF8, "application/json"))).StatusCode);
        using var reader = server.Client(sk);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(Status)).StatusCode);
    }

    public void Dispose() => _bin.Dispose();
}
