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

    private async Task ListenAsync()
    {
        try
        {
            // Nothing is cached before then (every request reads through), so nothing is missed.
            await _database.Migrated.WaitAsync(_stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var retry = Backoff.First;
        var lost = false;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _database.OpenListenerAsync(_stopping.Token);
                connection.Notification += (_, _) => Interlocked.Increment(ref _generation);
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresDatabase.Channel};", connection))
                {
                    try
                    {
                        await listen.ExecuteNonQueryAsync(_stopping.Token);
                    }
                    catch (PostgresException refused) when (IsUnsupported(refused))
                    {
                        // Asking again would not change the answer: said once, and never cached.
                        _warn($"{_database.Name} does not support LISTEN (SQLSTATE {refused.SqlState}), so no instance hears another's changes: every request reads the database, exact but without caches.");
                        return;
                    }
                }
                // Every commit from here on is heard; anything cached before may be stale.
                Interlocked.Increment(ref _generation);
                _listening = true;
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
