using System.Data.Common;

namespace CloudProviders.Storage;

/// <summary>
/// The database made ready for this process to write, once (<see cref="StorageSetup"/>: the
/// master key checked, the schema migrated). Every process does it before its first write. A
/// server on a shared database that cannot be reached yet, or that another instance is
/// migrating, keeps trying in the background and answers 503 meanwhile.
/// </summary>
internal sealed class StorageStartup(Settings settings, Database database, StartupNotices notices)
{
    private readonly Lock _preparing = new();
    private volatile StorageSetup.Prepared? _prepared;

    /// <summary>Whether requests may be served: the database is prepared (or, on a replica, needs no preparing).</summary>
    public bool IsReady => _prepared is not null || database.ReadOnly;

    /// <summary>The cipher for the database's keys.</summary>
    /// <exception cref="StorageNotReadyException">The database is not prepared yet.</exception>
    public CredentialCipher Cipher => (_prepared ?? throw new StorageNotReadyException()).Cipher;

    /// <summary>Prepares the database now, once; later calls return the first result.</summary>
    /// <exception cref="ConfigurationException">The master key is missing, unsafe, or not the database's.</exception>
    /// <exception cref="SchemaException">The database is from a newer binary.</exception>
    /// <exception cref="DbException">The database cannot be reached or used.</exception>
    public StorageSetup.Prepared Prepare()
    {
        lock (_preparing)
        {
            return _prepared ??= StorageSetup.Prepare(settings, database, notices.Notice, notices.Warning);
        }
    }

    /// <summary>Whether waiting may cure the failure: a shared database that is down, starting, failing over, or locked by another instance's migration.</summary>
    public bool IsWorthWaitingFor(Exception exception) => database is not SqliteDatabase && exception is DbException { IsTransient: true };

    /// <summary>Tries again, with <see cref="Backoff"/>, until the database is prepared or a failure waiting cannot cure.</summary>
    /// <param name="prepared">Told once it is done.</param>
    /// <param name="failed">Told of a failure that waiting cannot cure; no attempt follows.</param>
    public async Task PrepareWhenReachableAsync(Action<StorageSetup.Prepared> prepared, Action<Exception> failed, CancellationToken stopping)
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
