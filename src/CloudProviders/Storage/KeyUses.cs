using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Text;

namespace CloudProviders.Storage;

/// <summary>
/// When each API key last authenticated a request, to the minute. The request path writes
/// nothing: a key's first use in a minute is noted in memory, and the notes are written at most
/// once a minute, in one statement, and when the server stops. Such a write changes nothing a read
/// cache holds, so it is not announced: no instance drops a cache for it.
/// </summary>
/// <remarks>A read-only replica never writes, so it records nothing.</remarks>
internal sealed partial class KeyUses(Database database, TimeProvider time, ILoggerFactory logs) : IDisposable
{
    /// <summary>How often the notes are written, at most.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMinutes(1);

    /// <summary>A statement names at most this many keys (two parameters each); more wait for the next one.</summary>
    private const int MaxKeysPerStatement = 1000;

    private readonly ConcurrentDictionary<string, long> _pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _flushing = new();
    private readonly ILogger _log = logs.CreateLogger("CloudProviders.KeyUses");
    private int _started;

    /// <summary>Notes that the key authenticated a request now. Costs a clock read and a compare, except once a minute per key.</summary>
    public void Saw(StoredKey key)
    {
        var minute = time.GetUtcNow().ToUnixTimeSeconds() / 60;
        if (key.RecordedMinute == minute || database.ReadOnly)
        {
            return;
        }
        key.RecordedMinute = minute;
        _pending.AddOrUpdate(key.Actor.Id, minute, (_, noted) => Math.Max(noted, minute));
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _ = FlushEveryIntervalAsync(_stopping.Token);
        }
    }

    /// <summary>Writes every note taken so far; a note that could not be written is kept for the next time.</summary>
    /// <returns>How many keys were written.</returns>
    public int Flush()
    {
        lock (_flushing)
        {
            var taken = new List<(string Prefix, long Minute)>();
            foreach (var (prefix, minute) in _pending)
            {
                if (taken.Count == MaxKeysPerStatement)
                {
                    break;
                }
                if (_pending.TryRemove(new KeyValuePair<string, long>(prefix, minute)))
                {
                    taken.Add((prefix, minute));
                }
            }
            if (taken.Count == 0)
            {
                return 0;
            }
            try
            {
                Write(taken);
                return taken.Count;
            }
            catch (DbException)
            {
                foreach (var (prefix, minute) in taken)
                {
                    _pending.AddOrUpdate(prefix, minute, (_, noted) => Math.Max(noted, minute));
                }
                throw;
            }
        }
    }

    /// <summary>One statement: each key's last use moves forward, never back (another instance may have seen a later one).</summary>
    private void Write(List<(string Prefix, long Minute)> uses)
    {
        var rows = new StringBuilder();
        for (var i = 0; i < uses.Count; i++)
        {
            rows.Append(i == 0 ? "SELECT " : " UNION ALL SELECT ").Append(CultureInfo.InvariantCulture, $"@p{i} AS prefix, @t{i} AS at");
        }
        using var write = database.BeginWrite();
        using var command = write.Command($"""
            UPDATE api_keys SET last_used_at = uses.at
            FROM ({rows}) AS uses
            WHERE api_keys.prefix = uses.prefix AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at < uses.at);
            """);
        for (var i = 0; i < uses.Count; i++)
        {
            command.With($"@p{i}", uses[i].Prefix).With($"@t{i}", uses[i].Minute * 60);
        }
        command.ExecuteNonQuery();
        write.CommitUnannounced();
    }

    private async Task FlushEveryIntervalAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        // Stopping disposes the timer, which ends the wait with false. A cancelled wait would end
        // in an exception whose stack trace the timer sets, and setting one formats it at once:
        // the runtime looks up and sorts the names of every method in the executable, at every stop.
        using var stop = stopping.Register(timer.Dispose);
        while (await timer.WaitForNextTickAsync(CancellationToken.None).ConfigureAwait(false))
        {
            TryFlush();
        }
    }

    /// <summary>Writes the notes now, as the server stops; a failure is told, not thrown.</summary>
    public void FlushOnStop()
    {
        _stopping.Cancel();
        TryFlush();
    }

    private void TryFlush()
    {
        try
        {
            while (Flush() == MaxKeysPerStatement)
            {
            }
        }
        catch (Exception e) when (e is DbException or StorageNotReadyException or MasterKeyChangedException)
        {
            LogNotWritten(_log, _pending.Count);
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "When {Count} API keys were last used could not be written yet; trying again in a minute.")]
    private static partial void LogNotWritten(ILogger logger, int count);
}
