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

    /// <summary>
    /// The pool's size per instance, unless the connection string sets <c>Maximum Pool Size</c>.
    /// Reads come from memory, so the pool serves writes and first sightings of a key: a few
    /// connections carry the benchmark's write mix, and a fleet's budget is counted per instance
    /// (docs/operations.md). More would only queue on the server's row locks.
    /// </summary>
    public const int DefaultMaxPoolSize = 4;

    /// <summary>
    /// Requests that need the database hold a thread while they wait for it (storage calls are
    /// synchronous), and the thread pool adds threads past its minimum only a few a second: a
    /// burst of them (after a write, every instance reads through) would stall every request for
    /// seconds. This many can wait at once without holding up the rest.
    /// </summary>
    public const int WaitingRequests = 64;

    private readonly NpgsqlDataSource _pool;
    private readonly NpgsqlDataSource _direct;
    private ChangeListener? _changes;

    private readonly Action<string> _warn;

    private PostgresDatabase(NpgsqlDataSource pool, NpgsqlDataSource direct, string name, Action<string> warn)
    {
        _pool = pool;
        _direct = direct;
        Name = name;
        _warn = warn;
    }

    /// <summary>Checks the connection strings and builds the pool; connects to nothing yet.</summary>
    /// <param name="connectionString">The pool's: directly to the server, or through a pooler.</param>
    /// <param name="listenConnectionString">The listener's and the migrations', directly to the server; null for the pool's.</param>
    /// <param name="warn">Told of an unsafe but usable password file, and of the change notifications stopping and coming back.</param>
    /// <exception cref="ConfigurationException">A connection string is malformed, or would send credentials in plain text.</exception>
    public static PostgresDatabase Create(string connectionString, string? listenConnectionString, string? passwordFile, Action<string> warn)
    {
        var password = passwordFile is null ? null : SecretFile.Read(passwordFile, "Database:PasswordFile", warn).TrimEnd('\r', '\n');
        var pool = Read("Database:ConnectionString", connectionString, password, pooled: true);
        var name = $"the PostgreSQL database {pool.Database ?? pool.Username} on {pool.Host}:{pool.Port}";

        // Connections held for a purpose, outside the pool: the listener's for as long as the
        // process runs, so that it never takes a request's place; the migrations' for their
        // transaction. Both need the server itself (a session of their own), never a pooler's.
        var direct = listenConnectionString is null ? pool : Read("Database:ListenConnectionString", listenConnectionString, password, pooled: false);
        direct = new NpgsqlConnectionStringBuilder(direct.ConnectionString) { Pooling = false };
        return new PostgresDatabase(Build(pool.ConnectionString), Build(direct.ConnectionString), name, warn);
    }

    /// <summary>One connection string, held to the same rules whatever it is for; the pool's gets the default pool size.</summary>
    private static NpgsqlConnectionStringBuilder Read(string key, string connectionString, string? password, bool pooled)
    {
        NpgsqlConnectionStringBuilder settings;
        try
        {
            settings = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            // Npgsql's message may quote the string, password and all: it is not passed on.
            throw new ConfigurationException($"{key} cannot be read: it must be Npgsql's name=value pairs, such as Host=db.example.com;Database=cloud_providers;Username=cloud_providers;SSL Mode=VerifyFull, with names Npgsql knows.");
        }
        if (string.IsNullOrWhiteSpace(settings.Host))
        {
            throw new ConfigurationException($"{key} has no Host: give the PostgreSQL server's name or address (Host=...).");
        }
        RequireTls(key, settings);
        if (password is not null)
        {
            if (settings.Password is not null)
            {
                throw new ConfigurationException($"The database password is set twice, in {key} and Database:PasswordFile: keep the file, and remove Password from the connection string.");
            }
            settings.Password = password;
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
        if (pooled && !Sets(given, "Maximum Pool Size", "MaxPoolSize", "Max Pool Size"))
        {
            settings.MaxPoolSize = DefaultMaxPoolSize;
        }
        settings.ApplicationName ??= "cloud-providers";
        return settings;
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
    private static void RequireTls(string key, NpgsqlConnectionStringBuilder settings)
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
                    $"{key} connects to {host} without requiring TLS (SSL Mode={settings.SslMode}); add SSL Mode=VerifyFull (with Root Certificate=<CA file> for a private CA), or Require or VerifyCA.");
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

    /// <summary>
    /// On a connection of its own to the server; in a serving process the listener then keeps
    /// that connection (<see cref="ChangeListener.Adopt"/>), so an instance holds one direct
    /// connection at a time and hears every change from before its first request.
    /// </summary>
    public override int Migrate()
    {
        var connection = _direct.OpenConnection();
        try
        {
            var previous = PostgresSchema.Migrate(connection);
            if (_changes?.Adopt(connection) == true)
            {
                connection = null;
            }
            return previous;
        }
        finally
        {
            connection?.Dispose();
        }
    }

    public override int ReadVersion(DbConnection connection, DbTransaction? transaction = null) =>
        PostgresSchema.ReadVersion(connection, transaction);

    /// <summary>Only a serving process watches: it is the one whose requests wait on the database (<see cref="WaitingRequests"/>).</summary>
    public override IChangeWatch WatchChanges(TimeProvider time)
    {
        ThreadPool.GetMinThreads(out var workers, out var completions);
        ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount + WaitingRequests), completions);
        return _changes = new ChangeListener(this, _warn);
    }

    /// <summary>A connection of its own to the server, outside the pool, for <c>LISTEN</c>.</summary>
    internal ValueTask<NpgsqlConnection> OpenListenerAsync(CancellationToken cancellation) => _direct.OpenConnectionAsync(cancellation);

    public void Dispose()
    {
        _pool.Dispose();
        _direct.Dispose();
    }
}
