using Npgsql;

namespace CloudProviders.Storage;

/// <summary>
/// Hears every commit on the shared database, from any instance: one connection held open with
/// <c>LISTEN</c>, and every write does <c>NOTIFY</c> in its own transaction. While that connection
/// is down nothing is heard, so nothing cached is trusted: every request reads through to the
/// database until it is back, and then starts again from empty caches. A server that does not
/// support <c>LISTEN</c> is told so once, and then every request reads through.
/// </summary>
internal sealed class ChangeListener : IChangeWatch, IDisposable
{
    /// <summary>How long the listening connection may be idle before it is asked to answer, so that a connection lost silently is noticed.</summary>
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(5);


    private readonly PostgresDatabase _database;
    private readonly Action<string> _warn;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private long _generation;
    private volatile bool _listening;
    private volatile bool _unsupported;

    /// <summary>The first listening connection (the migrations'), or null when the loop is to connect by itself.</summary>
    private readonly TaskCompletionSource<NpgsqlConnection?> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="warn">Told when the notifications stop, and when they are back.</param>
    public ChangeListener(PostgresDatabase database, Action<string> warn)
    {
        _database = database;
        _warn = warn;
        _loop = Task.Run(ListenAsync);
    }

    /// <summary>A change this process knows of without being told (its own commit).</summary>
    public void Changed() => Interlocked.Increment(ref _generation);

    /// <summary>While changes are not heard, never the same number twice: nothing cached is trusted.</summary>
    public long CheckForChanges() => _listening ? Volatile.Read(ref _generation) : Interlocked.Increment(ref _generation);

    /// <summary>
    /// Listens on the connection the migrations used, at once: the process hears every change
    /// from before its first request, and holds one connection to the server at a time, never a
    /// second one beside the migrations'. Called once, when the database is prepared.
    /// </summary>
    /// <returns>Whether the listener keeps the connection; if not, the caller closes it.</returns>
    public bool Adopt(NpgsqlConnection connection)
    {
        if (_first.Task.IsCompleted)
        {
            return false;
        }
        bool listening;
        try
        {
            listening = TryListen(connection);
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            // Lost as soon as migrated: the loop connects by itself.
            listening = false;
        }
        _first.TrySetResult(listening ? connection : null);
        return listening;
    }

    /// <summary>
    /// <c>LISTEN</c> on the connection; false when the server does not support it, which is said
    /// once, and then asking again would not change the answer: nothing is ever cached.
    /// </summary>
    private bool TryListen(NpgsqlConnection connection)
    {
        connection.Notification += (_, _) => Interlocked.Increment(ref _generation);
        try
        {
            using var listen = new NpgsqlCommand($"LISTEN {PostgresDatabase.Channel};", connection);
            listen.ExecuteNonQuery();
        }
        catch (PostgresException refused) when (IsUnsupported(refused))
        {
            _unsupported = true;
            _warn($"{_database.Name} does not support LISTEN (SQLSTATE {refused.SqlState}), so no instance hears another's changes: every request reads the database, exact but without caches.");
            return false;
        }
        // Every commit from here on is heard; anything cached before may be stale.
        Interlocked.Increment(ref _generation);
        _listening = true;
        return true;
    }

    private async Task ListenAsync()
    {
        NpgsqlConnection? adopted;
        try
        {
            // Nothing is cached before the database is prepared: every request reads through.
            adopted = await _first.Task.WaitAsync(_stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var retry = Backoff.First;
        var lost = false;
        while (!_stopping.IsCancellationRequested && !_unsupported)
        {
            try
            {
                await using var connection = adopted ?? await _database.OpenListenerAsync(_stopping.Token);
                if (adopted is null && !TryListen(connection))
                {
                    return;
                }
                adopted = null;
                retry = Backoff.First;
                if (lost)
                {
                    _warn($"Change notifications from {_database.Name} are back; caching again.");
                    lost = false;
                }
                while (true)
                {
                    if (!await connection.WaitAsync(PingInterval, _stopping.Token))
                    {
                        await using var ping = new NpgsqlCommand("SELECT 1;", connection);
                        await ping.ExecuteNonQueryAsync(_stopping.Token);
                    }
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or InvalidOperationException or OperationCanceledException)
            {
                if (!lost)
                {
                    _warn($"Change notifications from {_database.Name} stopped; every request reads the database until they are back.");
                    lost = true;
                }
            }
            finally
            {
                _listening = false;
            }
            try
            {
                await Task.Delay(retry, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            retry = Backoff.After(retry);
        }
    }

    /// <summary>
    /// The server's answer to <c>LISTEN</c> itself, rather than a fault of the connection: not
    /// supported (YugabyteDB's 0A000), or not even parsed (CockroachDB's 42601).
    /// </summary>
    private static bool IsUnsupported(PostgresException refused) =>
        refused.SqlState.StartsWith("0A", StringComparison.Ordinal) || refused.SqlState.StartsWith("42", StringComparison.Ordinal);

    public void Dispose()
    {
        _stopping.Cancel();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
        _stopping.Dispose();
    }
}
