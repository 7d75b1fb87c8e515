using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace CloudProviders.Storage;

/// <summary>
/// Tells cheaply whether the database may have changed since the last look, so that read caches
/// stay exact: a commit by any other connection, in this process or another, rewrites the
/// WAL-index header that a connection held open for the purpose maps (<see cref="WalIndex"/>), or,
/// where there is none, moves <c>PRAGMA data_version</c> on that connection. Such a commit counts
/// as a change only when it moved the file's count of changes (<c>data_changes</c>, which every
/// announced write moves): a write that no cache depends on, such as when a key was last used,
/// drops nothing. A file deleted or
/// replaced underneath (an atomic rename by a restore or a replicator) changes the file's
/// identity, which the held connection cannot see: that is checked with <c>statx</c>, at most
/// every <see cref="IdentityCheckInterval"/>: a system call on every request would outweigh the
/// cached read it guards.
/// </summary>
internal sealed class ChangeWatch(SqliteDatabase database, TimeProvider time) : IChangeWatch, IDisposable
{
    /// <summary>How long a replaced or deleted file can go unnoticed. Commits are seen at once.</summary>
    public static readonly TimeSpan IdentityCheckInterval = TimeSpan.FromMilliseconds(100);

    private readonly Lock _lock = new();
    private readonly long _identityCheckTicks = (long)(IdentityCheckInterval.TotalSeconds * time.TimestampFrequency);
    private long _nextIdentityCheck;
    private SqliteConnection? _connection;
    private sqlite3_stmt? _dataVersion;
    private (bool Exists, uint, uint, ulong) _identity;
    private long _lastDataVersion = -1;
    private sqlite3_stmt? _changeCount;
    private long _lastChangeCount = -1;
    private WalIndex _walIndex;
    private WalIndex.Header _lastHeader;
    private long _generation;

    /// <summary>
    /// Looks for a change (a memory compare of the WAL-index header; at most every
    /// <see cref="IdentityCheckInterval"/> a <c>statx</c>, and a reopen when the file was replaced)
    /// and returns a number that moves whenever the database may have changed. Throws
    /// <see cref="SqliteException"/> when the file is missing or unreadable.
    /// </summary>
    public long CheckForChanges()
    {
        lock (_lock)
        {
            var now = time.GetTimestamp();
            if (_connection is null || now >= _nextIdentityCheck)
            {
                var identity = FileStatus.Of(database.Path).Identity;
                _nextIdentityCheck = now + _identityCheckTicks;
                if (_connection is null || identity != _identity)
                {
                    Reopen(identity);
                }
            }
            if (_walIndex.TryRead(out var header))
            {
                // Every commit rewrites the WAL-index header; reading it is a memory compare.
                if (header != _lastHeader)
                {
                    _lastHeader = header;
                    CountIfChanged();
                }
                return _generation;
            }
            var version = ReadDataVersion();
            if (version != _lastDataVersion)
            {
                _lastDataVersion = version;
                CountIfChanged();
            }
            _lastHeader = default;
            return _generation;
        }
    }

    /// <summary>A commit was seen: the generation moves if the file's count of changes did (or where the file has none).</summary>
    private void CountIfChanged()
    {
        var count = ReadChangeCount();
        if (count is null || count != _lastChangeCount)
        {
            _lastChangeCount = count ?? -1;
            _generation++;
        }
    }

    /// <returns>The file's count of changes; null for a file from before it was kept.</returns>
    private long? ReadChangeCount()
    {
        if (_changeCount is null && raw.sqlite3_prepare_v2(_connection!.Handle, "SELECT counter FROM data_changes WHERE id = 1;", out var statement) == raw.SQLITE_OK)
        {
            _changeCount = statement;
        }
        if (_changeCount is null)
        {
            return null;
        }
        var rc = raw.sqlite3_step(_changeCount);
        try
        {
            return rc == raw.SQLITE_ROW ? raw.sqlite3_column_int64(_changeCount, 0) : null;
        }
        finally
        {
            raw.sqlite3_reset(_changeCount);
        }
    }

    private void Reopen((bool Exists, uint, uint, ulong) identity)
    {
        if (_connection is not null)
        {
            // The file was replaced or removed, but its -wal and -shm files keep their names:
            // whatever opens the path next would read the old file's frames over the new one.
            // Check them into the old file (which this connection still holds) and truncate them.
            // Best effort: a reader mid-transaction on the old file can make this give up.
            _ = raw.sqlite3_wal_checkpoint_v2(_connection.Handle, null, raw.SQLITE_CHECKPOINT_TRUNCATE, out _, out _);
        }
        Close();
        // Pooled connections still hold the old file open: drop them too.
        SqliteConnection.ClearAllPools();
        _generation++;
        _lastDataVersion = -1;
        _lastChangeCount = -1;
        if (!identity.Exists)
        {
            throw new SqliteException("The database file is missing.", 14 /* SQLITE_CANTOPEN */);
        }
        // Read-write (read-only on a replica), so that it can checkpoint the file it holds when
        // that file is replaced; it never writes.
        _connection = database.Open();
        // The raw statement, prepared once: this runs on every request, and ADO.NET's command
        // machinery would cost more than the pragma itself.
        var rc = raw.sqlite3_prepare_v2(_connection.Handle, "PRAGMA data_version;", out var statement);
        SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        _dataVersion = statement;
        _identity = identity;
        // One read maps the WAL index (in WAL mode), so that its header can be found.
        ReadDataVersion();
        _walIndex = WalIndex.Of(_connection);
        _lastHeader = default;
    }

    private long ReadDataVersion()
    {
        var rc = raw.sqlite3_step(_dataVersion);
        try
        {
            if (rc != raw.SQLITE_ROW)
            {
                SqliteException.ThrowExceptionForRC(rc, _connection!.Handle);
            }
            return raw.sqlite3_column_int64(_dataVersion, 0);
        }
        finally
        {
            raw.sqlite3_reset(_dataVersion);
        }
    }

    private void Close()
    {
        _walIndex = default;
        _changeCount?.Dispose();
        _changeCount = null;
        _dataVersion?.Dispose();
        _connection?.Dispose();
        _dataVersion = null;
        _connection = null;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            Close();
        }
    }
}
