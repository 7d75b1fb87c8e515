using System.Data.Common;
using System.Net;
using Npgsql;

namespace CloudProviders.Storage;

/// <summary>
/// The engine for a fleet: one PostgreSQL database that every instance reads and writes. Each
/// write announces itself with <c>NOTIFY</c> inside its own transaction, so other instances hear
/// of it exactly when it commits (<see cref="ChangeListener"/>).
/// </summary>
internal sealed class PostgresDatabase : Database, IDisposable
{
    /// <summary>The channel every write notifies and every instance listens on.</summary>
    public const string Channel = "cloud_providers_changes";

    /// <summary>Connect and pool-wait timeout, in seconds, unless the connection string sets <c>Timeout</c>.</summary>
    public const int DefaultTimeoutSeconds = 5;

    /// <summary>How long one statement may run, unless the connection string sets <c>Command Timeout</c>.</summary>
    public const int DefaultCommandTimeoutSeconds = 5;

    /// <summary>Connections per instance, unless the connection string sets <c>Maximum Pool Size</c>: reads come from memory, so writes are what use them.</summary>
    public const int DefaultMaxPoolSize = 20;

    private readonly NpgsqlDataSource _pool;
    private readonly NpgsqlDataSource _listener;
    private ChangeListener? _changes;

    private readonly Action<string> _warn;

    private PostgresDatabase(NpgsqlDataSource pool, NpgsqlDataSource listener, string name, Action<string> warn)
    {
        _pool = pool;
        _listener = listener;
        Name = name;
        _warn = warn;
    }

    /// <summary>Checks the connection string and builds the pools; connects to nothing yet.</summary>
    /// <param name="warn">Told of an unsafe but usable password file, and of the change notifications stopping and coming back.</param>
    /// <exception cref="ConfigurationException">The connection string is malformed, or would send credentials in plain text.</exception>
    public static PostgresDatabase Create(string connectionString, string? passwordFile, Action<string> warn)
    {
        NpgsqlConnectionStringBuilder settings;
        try
        {
            settings = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            // Npgsql's message may quote the string, password and all: it is not passed on.
            throw new ConfigurationException("Database:ConnectionString cannot be read: it must be Npgsql's name=value pairs, such as Host=db.example.com;Database=cloud_providers;Username=cloud_providers;SSL Mode=VerifyFull, with names Npgsql knows.");
        }
        if (string.IsNullOrWhiteSpace(settings.Host))
        {
            throw new ConfigurationException("Database:ConnectionString has no Host: give the PostgreSQL server's name or address (Host=...).");
        }
        RequireTls(settings);
        if (passwordFile is not null)
        {
            if (settings.Password is not null)
            {
                throw new ConfigurationException("The database password is set twice, in Database:ConnectionString and Database:PasswordFile: keep the file, and remove Password from the connection string.");
            }
            settings.Password = SecretFile.Read(passwordFile, "Database:PasswordFile", warn).TrimEnd('\r', '\n');
        }
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!Sets(given, "Timeout"))
        {
            settings.Timeout = DefaultTimeoutSeconds;
        }
        if (!Sets(given, "Command Timeout", "CommandTimeout"))
        {
            settings.CommandTimeout = DefaultCommandTimeoutSeconds;
        }
        if (!Sets(given, "Maximum Pool Size", "MaxPoolSize", "Max Pool Size"))
        {
            settings.MaxPoolSize = DefaultMaxPoolSize;
        }
        settings.ApplicationName ??= "cloud-providers";
        var name = $"the PostgreSQL database {settings.Database ?? settings.Username} on {settings.Host}:{settings.Port}";

        var pool = Build(settings.ConnectionString);
        // The listening connection is held for as long as the process runs: outside the pool, so
        // that it never takes a request's place, and never handed to one.
        settings.Pooling = false;
        return new PostgresDatabase(pool, Build(settings.ConnectionString), name, warn);
    }

    private static NpgsqlDataSource Build(string connectionString)
    {
        // Only what the schema uses (text, integers, booleans and bytea: types built into Npgsql,
        // so nothing is read from the server's catalog on connecting), plus TLS.
        var builder = new NpgsqlSlimDataSourceBuilder(connectionString);
        builder.EnableTransportSecurity();
        builder.ConfigureTypeLoading(types => types.EnableTypeLoading(false));
        return builder.Build();
    }

    /// <summary>
    /// Npgsql's default (<c>SSL Mode=Prefer</c>) falls back to plain text without a word. Off this
    /// host, where a password or the data could be read on the wire, TLS must be required.
    /// </summary>
    private static void RequireTls(NpgsqlConnectionStringBuilder settings)
    {
        if (settings.SslMode is SslMode.Require or SslMode.VerifyCA or SslMode.VerifyFull)
        {
            return;
        }
        foreach (var host in settings.Host!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!IsLocal(host))
            {
                throw new ConfigurationException(
                    $"Database:ConnectionString connects to {host} without requiring TLS (SSL Mode={settings.SslMode}); add SSL Mode=VerifyFull (with Root Certificate=<CA file> for a private CA), or Require or VerifyCA.");
            }
        }
    }

    private static bool IsLocal(string host)
    {
        // host, host:port, [v6], [v6]:port, or a Unix socket's folder.
        if (host.StartsWith('/') || host.StartsWith('@'))
        {
            return true;
        }
        var name = host.StartsWith('[') ? host[1..Math.Max(1, host.IndexOf(']', StringComparison.Ordinal))]
            : host.Count(c => c == ':') == 1 ? host[..host.IndexOf(':', StringComparison.Ordinal)]
            : host;
        return name.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(name, out var address) && IPAddress.IsLoopback(address));
    }

    private static bool Sets(DbConnectionStringBuilder given, params string[] keys) => keys.Any(given.ContainsKey);

    public override string Name { get; }

    public override string ForUpdate => " FOR UPDATE";

    public override string ForShare => " FOR SHARE";

    public override NpgsqlConnection Open() => _pool.OpenConnection();

    /// <summary>Read committed: a write that depends on a row locks it (<see cref="ForUpdate"/>), and upserts are atomic.</summary>
    public override DbTransaction BeginWrite(DbConnection connection) => ((NpgsqlConnection)connection).BeginTransaction();

    /// <summary>Delivered to the listeners only if the transaction commits, and after it does.</summary>
    public override void AnnounceChange(DbConnection connection, DbTransaction transaction)
    {
        using var command = connection.Command($"SELECT pg_notify('{Channel}', '');", transaction);
        command.ExecuteNonQuery();
    }

    /// <summary>This instance's own commit is seen at its next request, before the notification comes back.</summary>
    public override void Committed() => _changes?.Changed();

    /// <summary>After a restart or a failover every pooled connection is dead: start the pool afresh.</summary>
    public override void AfterFault(DbException fault) => _pool.Clear();

    public override int Migrate() => PostgresSchema.Migrate(this);

    public override int ReadVersion(DbConnection connection, DbTransaction? transaction = null) =>
        PostgresSchema.ReadVersion(connection, transaction);

    public override IChangeWatch WatchChanges(TimeProvider time) => _changes = new ChangeListener(this, _warn);

    /// <summary>A connection of its own, outside the pool, for <c>LISTEN</c>.</summary>
    internal ValueTask<NpgsqlConnection> OpenListenerAsync(CancellationToken cancellation) => _listener.OpenConnectionAsync(cancellation);

    public void Dispose()
    {
        _pool.Dispose();
        _listener.Dispose();
    }
}
