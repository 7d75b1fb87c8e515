using System.Collections.Concurrent;
using System.Security.Cryptography;
using CloudProviders.Domain;
using CloudProviders.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CloudProviders.Tests.Support;

/// <summary>
/// The real app in process, on a real SQLite file in its own temporary folder (or, in the
/// PostgreSQL run, a database of its own on the test server), with an HS256 secret and a PEM of
/// RSA and EC public keys configured. Every log line is kept for the no-leak checks.
/// </summary>
public sealed class ServiceFactory : WebApplicationFactory<Program>
{
    public static readonly Guid TeamA = Guid.Parse("0190d9b8-7c1e-7a2b-9c3d-4e5f60718293");
    public static readonly Guid TeamB = Guid.Parse("0190d9b8-7c1e-7a2b-9c3d-4e5f60718294");
    public const string ComfyKey = "comfyui-0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab";

    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private readonly PostgresTestDatabase? _postgres;

    public ServiceFactory() : this(null) { }

    internal ServiceFactory(Action<Dictionary<string, string?>>? edit, Action<IServiceCollection>? services = null)
    {
        _services = services;
        Directory.CreateDirectory(Folder);
        var pem = Path.Combine(Folder, "idp.pem");
        File.WriteAllText(pem, Keys.PublicPem);
        _postgres = TestEngine.Postgres ? new PostgresTestDatabase() : null;
        _settings = new()
        {
            ["Encryption:Key"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Jwt:Issuer"] = TestKeys.Issuer,
            ["Jwt:Audience"] = TestKeys.Audience,
            ["Jwt:SigningKey"] = TestKeys.Secret,
            ["Jwt:PublicKeysFile"] = pem,
        };
        if (_postgres is not null)
        {
            _settings["Database:Engine"] = "postgres";
            _settings["Database:ConnectionString"] = _postgres.ConnectionString;
        }
        else
        {
            _settings["Database:Path"] = DatabasePath;
        }
        edit?.Invoke(_settings);
        SecretLedger.Record(ComfyKey);
        SecretLedger.Record(TestKeys.Secret);
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "cloud-providers-tests", Guid.NewGuid().ToString("N"));

    public string DatabasePath => Path.Combine(Folder, "test.db");

    internal TestKeys Keys { get; } = new();

    public ConcurrentQueue<string> Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseContentRoot(Folder);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging => logging.ClearProviders().AddProvider(new CapturingLoggerProvider(Logs)));
        if (_services is not null)
        {
            builder.ConfigureServices(_services);
        }
    }

    /// <summary>The service on a clock the test controls.</summary>
    internal static ServiceFactory WithClock(TimeProvider clock) =>
        new(null, services => services.AddSingleton<TimeProvider>(clock));

    internal T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>The same settings as command-line arguments (<c>--Key=value</c>), for the real host that <see cref="App.Build"/> makes rather than the test server.</summary>
    internal string[] Arguments => [.. _settings.Where(s => s.Value is not null).Select(s => $"--{s.Key}={s.Value}")];

    /// <summary>Team A with its <see cref="TestUsers"/> (owner, admin, member, viewer), and its credential; team B with its owner.</summary>
    internal void SeedTeamA(bool withCredential = true)
    {
        var teams = Get<TeamStore>();
        teams.AddTeam(TeamA, "Team A");
        teams.AddTeam(TeamB, "Team B");
        teams.AddMember(TeamA, TestUsers.Owner, Role.Owner);
        teams.AddMember(TeamA, TestUsers.Admin, Role.Admin);
        teams.AddMember(TeamA, TestUsers.Member, Role.Member);
        teams.AddMember(TeamA, TestUsers.Viewer, Role.Viewer);
        teams.AddMember(TeamB, TestUsers.OtherTeamOwner, Role.Owner);
        if (withCredential)
        {
            Get<CredentialStore>().Set(TeamA, Provider.ComfyCloud, ComfyKey, cloudFallback: true, Actor.Cli);
        }
    }

    internal string CreateKey(Guid team, ApiKeyKind kind, TimeSpan? lifetime = null)
    {
        var key = Get<ApiKeyStore>().Create(team, kind, "test", lifetime)!;
        SecretLedger.Record(key);
        return key;
    }

    /// <summary>A client whose requests and responses pass through the <see cref="SecretLedger"/>.</summary>
    public new HttpClient CreateClient() => CreateDefaultClient(new RecordingHandler());

    public HttpClient ClientWith(string? bearer, Guid? team = null)
    {
        var client = CreateClient();
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        }
        if (team is { } t)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("X-Team-ID", t.ToString());
        }
        return client;
    }

    protected override void Dispose(bool disposing)
    {
        // What the service left behind is checked before the files go: its logs and its database.
        // A leak fails the test that used this factory, after the cleanup.
        SecretLeakException? leak = null;
        if (disposing)
        {
            try
            {
                SecretLedger.AssertClean("the service's logs", string.Join('\n', Logs));
                if (_postgres is not null)
                {
                    SecretLedger.AssertClean($"the database {_postgres.Name}", _postgres.Dump());
                }
                else
                {
                    SecretLedger.AssertDatabaseClean(_settings["Database:Path"]!);
                }
            }
            catch (SecretLeakException e)
            {
                leak = e;
            }
        }
        base.Dispose(disposing);
        if (disposing)
        {
            Keys.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            _postgres?.Dispose();
            try
            {
                Directory.Delete(Folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        if (leak is not null)
        {
            throw leak;
        }
    }

    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> sink) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, sink);

        public void Dispose() { }
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<string> sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
