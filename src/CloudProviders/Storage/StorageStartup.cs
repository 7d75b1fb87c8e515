using System.Data.Common;

namespace CloudProviders.Storage;

/// <summary>
/// The database made ready for this process to write, once: it checks the master key against
/// the database while nothing has been written (<see cref="MasterKeyCheck"/>), then creates or
/// migrates the schema, generates a development key only for an embedded database that holds no
/// key yet, and records the key's check value. Every process that writes does it before its
/// first write, the server and each admin command alike. A
/// server on a shared database that cannot be reached yet, or that another instance is
/// migrating, keeps trying in the background and answers 503 meanwhile.
/// </summary>
internal sealed class StorageStartup(Settings settings, Database database, StartupNotices notices)
{
    /// <summary>The cipher for the database's keys, and the schema version the database had before.</summary>
    public sealed record Prepared(CredentialCipher Cipher, int PreviousVersion);

    private readonly Lock _preparing = new();
    private volatile Prepared? _prepared;

    /// <summary>Whether requests may be served: the database is prepared (or, on a replica, needs no preparing).</summary>
    public bool IsReady => _prepared is not null || database.ReadOnly;

    /// <summary>The cipher for the database's keys.</summary>
    /// <exception cref="StorageNotReadyException">The database is not prepared yet.</exception>
    public CredentialCipher Cipher => (_prepared ?? throw new StorageNotReadyException()).Cipher;

    /// <summary>Prepares the database now, once; later calls return the first result.</summary>
    /// <exception cref="ConfigurationException">The master key is missing, unsafe, or not the database's.</exception>
    /// <exception cref="SchemaException">The database is from a newer binary.</exception>
    /// <exception cref="DbException">The database cannot be reached or used.</exception>
    public Prepared Prepare()
    {
        lock (_preparing)
        {
            return _prepared ??= PrepareOnce(notices.Notice, notices.Warning);
        }
    }

    /// <param name="notice">Told when a development key file is generated.</param>
    /// <param name="warn">Told of a key file that is unsafe but usable.</param>
    /// <exception cref="ConfigurationException">The master key is missing, unsafe, or not the database's.</exception>
    /// <exception cref="SchemaException">The file is from a newer binary.</exception>
    private Prepared PrepareOnce(Action<string> notice, Action<string> warn)
    {
        if (database.ReadOnly)
        {
            throw new ConfigurationException("This database is a read-only replica (Database:ReadOnly=true): send changes to the primary.");
        }
        // Only an embedded file gets a development key, beside it: instances that share a
        // PostgreSQL database must share one master key, which only the operator can give them.
        var developmentKey = database is SqliteDatabase sqlite ? MasterKey.DevelopmentKeyPath(sqlite.Path) : null;
        var found = MasterKey.Find(settings, developmentKey, warn);
        if (found is null && developmentKey is null)
        {
            throw new ConfigurationException(
                "Every instance on a shared PostgreSQL database needs the same master key: set Encryption:KeyFile (or Encryption:Key) to it.");
        }
        var recorded = database.MayHoldData && MasterKeyCheck.Check(database, found, developmentKey);

        var previous = database.Migrate();
        found ??= MasterKey.Generate(developmentKey!, notice, warn);
        var cipher = new CredentialCipher(found.Key);
        if (!recorded)
        {
            MasterKeyCheck.Establish(database, cipher, found.Source);
        }
        return new Prepared(cipher, previous);
    }

    /// <summary>Whether waiting may cure the failure: a shared database that is down, starting, failing over, or locked by another instance's migration.</summary>
    public bool IsWorthWaitingFor(Exception exception) => database is not SqliteDatabase && exception is DbException { IsTransient: true };

    /// <summary>Tries again, with <see cref="Backoff"/>, until the database is prepared or a failure waiting cannot cure.</summary>
    /// <param name="prepared">Told once it is done.</param>
    /// <param name="failed">Told of a failure that waiting cannot cure; no attempt follows.</param>
    public async Task PrepareWhenReachableAsync(Action<Prepared> prepared, Action<Exception> failed, CancellationToken stopping)
    {
        var wait = Backoff.First;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(wait, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                prepared(Prepare());
                return;
            }
            catch (Exception e) when (IsWorthWaitingFor(e))
            {
                wait = Backoff.After(wait);
            }
            catch (Exception e) when (e is ConfigurationException or SchemaException or DbException)
            {
                failed(e);
                return;
            }
        }
    }
}

/// <summary>A request came before the database was prepared: 503, try again shortly.</summary>
internal sealed class StorageNotReadyException() : Exception("The database is not ready yet.");
