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

    private static void AssertOneLine(NativeBinary.Result result, string says)
    {
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(says, line, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", line, StringComparison.Ordinal);
    }

    private string Seed()
    {
        _bin.Ok("team", "add", Team);
        _bin.Ok("member", "add", Team, "alice", "--role", "owner");
        _bin.Ok("member", "add", Team, "bob", "--role", "member");
        _bin.OkWithInput(ServiceFactory.ComfyKey + "\n", "credential", "set", Team);
        return _bin.Ok("key", "create", Team, "--kind", "sk").TrimEnd('\n');
    }

    /// <summary>Polls until the condition holds, and fails if it does not within <see cref="Propagation"/>.</summary>
    private static async Task Eventually(string what, Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Propagation, $"Not within {Propagation.TotalSeconds} s: {what}");
            await Task.Delay(10);
        }
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
        AssertOneLine(defaultBuild.RunExactly(null, "migrate"), "-p:Postgres=true");
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
        AssertOneLine(_bin.RunExactly(null, args), says);
        Assert.False(File.Exists(Path.Combine(_bin.Folder, "x.db")));
    }

    [Fact]
    public void Sqlite_is_the_default_even_in_the_postgres_build_and_refuses_postgres_settings()
    {
        using var sqlite = NativeBinary.WithPostgres(onPostgres: false);
        sqlite.Ok("team", "add", Team);
        sqlite.Environment["Database__ConnectionString"] = Database.ConnectionString;
        AssertOneLine(sqlite.Run("migrate"), "Database:ConnectionString is PostgreSQL's");
        sqlite.Environment.Remove("Database__ConnectionString");
        sqlite.Environment["Database__Engine"] = "mysql";
        AssertOneLine(sqlite.Run("migrate"), "must be sqlite (the default) or postgres");
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
        Assert.Contains("schema version 3", _bin.Ok("migrate"), StringComparison.Ordinal);

        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
        AssertOneLine(_bin.Run("migrate"), "chmod go-w");

        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _bin.Environment["Database__ConnectionString"] = Database.ConnectionString;
        AssertOneLine(_bin.Run("migrate"), "set twice");
    }

    [Fact]
    public void Tls_with_verify_full_works_against_the_servers_own_ca_and_a_wrong_ca_is_refused()
    {
        var ca = System.Environment.GetEnvironmentVariable("CLOUD_PROVIDERS_TEST_POSTGRES_CA")
            ?? throw new InvalidOperationException("CLOUD_PROVIDERS_TEST_POSTGRES_CA is not set: run the tests through bash tests/run.sh.");
        var settings = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Host = "localhost", SslMode = SslMode.VerifyFull, RootCertificate = ca };
        _bin.Environment["Database__ConnectionString"] = settings.ConnectionString;
        Assert.Contains("schema version 3", _bin.Ok("migrate"), StringComparison.Ordinal);

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
        AssertOneLine(_bin.Run("migrate"), "TLS to PostgreSQL failed");
    }

    [Fact]
    public void Without_the_master_key_or_with_another_one_nothing_is_written()
    {
        var keyFile = _bin.Environment["Encryption__KeyFile"];
        _bin.Environment.Remove("Encryption__KeyFile");
        AssertOneLine(_bin.Run("team", "add", Team), "needs the same master key");
        Assert.Equal(false, Database.Scalar("SELECT to_regclass('teams') IS NOT NULL;"));

        _bin.Environment["Encryption__KeyFile"] = keyFile;
        Seed();
        var other = Path.Combine(_bin.Folder, "other.key");
        File.WriteAllText(other, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");
        File.SetUnixFileMode(other, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _bin.Environment["Encryption__KeyFile"] = other;
        var before = Database.Dump();
        AssertOneLine(_bin.RunWithInput("comfyui-ffffffffffffffffffffffffffffffff\n", "credential", "set", Team), "is not the one");
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
        Assert.Equal(3, Database.Scalar("SELECT version FROM schema_version;"));
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
        AssertOneLine(_bin.Run("migrate"), "newer than this binary's");
    }

    [Fact]
    public async Task Two_instances_on_one_database_are_one_service()
    {
        var sk = Seed();
        var a = await _bin.ServeAsync();
        var b = await _bin.ServeAsync();
        using var ownerOnA = a.Client(TestKeys.Hs256("alice"), Team);
        using var skOnA = a.Client(sk);
        using var skOnB = b.Client(sk);
        using var bobOnB = b.Client(TestKeys.Hs256("bob"), Team);
        Assert.Contains("comfyui-...89ab", await Preview(skOnB), StringComparison.Ordinal);

        // A write on A is read on B.
        const string NewKey = "comfyui-feedfacefeedfacefeedfacefeedface";
        SecretLedger.Record(NewKey);
        var put = await ownerOnA.PutAsync(Status, new StringContent($$"""{"api_key":"{{NewKey}}","cloud_fallback":true}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        await Eventually("B serves the key A stored", async () => (await Preview(skOnB)).Contains("comfyui-...face", StringComparison.Ordinal));
        Assert.Equal(2L, Database.Scalar("SELECT count(*) FROM credential_audit;"));

        // A member removed by the command line is refused on both.
        Assert.Equal(HttpStatusCode.OK, (await bobOnB.GetAsync(Status)).StatusCode);
        _bin.Ok("member", "remove", Team, "bob");
        using var bobOnA = a.Client(TestKeys.Hs256("bob"), Team);
        await Eventually("B refuses the removed member", async () => (await bobOnB.GetAsync(Status)).StatusCode == HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.Forbidden, (await bobOnA.GetAsync(Status)).StatusCode);

        // A key revoked by the command line is refused by both.
        var prefix = sk[..12];
        _bin.Ok("key", "revoke", prefix);
        await Eventually("A refuses the revoked key", async () => (await skOnA.GetAsync(Status)).StatusCode == HttpStatusCode.Unauthorized);
        await Eventually("B refuses the revoked key", async () => (await skOnB.GetAsync(Status)).StatusCode == HttpStatusCode.Unauthorized);
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
        await Task.Delay(200);
        // A change no notification tells B of: B, not listening, must read it anyway.
        Database.Execute($"UPDATE credentials SET status = 'revoked', cloud_fallback = false, ciphertext = NULL WHERE team_id = '{Team}';");
        Assert.Contains("\"revoked\"", await Preview(client), StringComparison.Ordinal);

        // B listens again by itself, and hears the next change.
        await Eventually("B listens again", () => Task.FromResult(Database.Scalar(Listening) is 1L));
        Assert.Contains("\"revoked\"", await Preview(client), StringComparison.Ordinal);
        _bin.OkWithInput(ServiceFactory.ComfyKey + "\n", "credential", "set", Team);
        await Eventually("B serves the key set after it reconnected", async () => (await Preview(client)).Contains("\"active\"", StringComparison.Ordinal));
    }

    public void Dispose() => _bin.Dispose();
}
