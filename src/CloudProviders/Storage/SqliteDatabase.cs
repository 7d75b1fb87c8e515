using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace CloudProviders.Storage;

/// <summary>The embedded engine: one SQLite file. Connections are pooled; each request opens and closes one.</summary>
internal sealed class SqliteDatabase : Database
{
    /// <summary>
    /// How long a statement waits on another writer's lock before it gives up (SQLITE_BUSY, then
    /// 503): long enough for a burst of writers to take their turns, and the same bound as
    /// PostgreSQL's statement timeout.
    /// </summary>
    public const int BusyTimeoutSeconds = 5;

    private readonly string _readWrite;
    private readonly bool _isReadOnly;

    static SqliteDatabase() => SQLitePCL.Batteries_V2.Init();

    /// <param name="readOnly">A replica: every connection is read-only, and nothing creates or migrates the file.</param>
    public SqliteDatabase(string path, bool readOnly = false)
    {
        Path = System.IO.Path.GetFullPath(path);
        _isReadOnly = readOnly;
        _readWrite = ConnectionString(Path, readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWrite);
    }

    public string Path { get; }

    public override string Name => Path;

    public override bool ReadOnly => _isReadOnly;

    public override bool MayHoldData => File.Exists(Path);

    /// <summary>
    /// Opens the existing file for reading and writing (read-only on a replica). It never creates
    /// the file: only <see cref="Migrate()"/> does, so a file that vanishes stays gone (and fails loudly).
    /// </summary>
    public override SqliteConnection Open() => OpenWith(_readWrite);

    /// <summary>
    /// <c>BEGIN IMMEDIATE</c>: SQLite has one writer at a time, and this one holds the lock from
    /// its first read. Freed pages are zeroed, so a destroyed ciphertext leaves no copy in the file.
    /// </summary>
    public override DbTransaction BeginWrite(DbConnection connection)
    {
        using (var command = connection.Command("PRAGMA secure_delete = ON;"))
        {
            command.ExecuteNonQuery();
        }
        return ((SqliteConnection)connection).BeginTransaction(deferred: false);
    }

    /// <summary>
    /// Counts the change in the file itself: every process's change watch sees a commit in the
    /// WAL index, and this count tells it whether the commit changed anything its caches hold.
    /// </summary>
    public override void AnnounceChange(DbConnection connection, DbTransaction transaction)
    {
        using var command = connection.Command("UPDATE data_changes SET counter = counter + 1 WHERE id = 1;", transaction);
        command.ExecuteNonQuery();
    }

    /// <summary>A connection that saw an I/O error may keep its error state; a busy one is only busy.</summary>
    public override void AfterFault(DbException fault)
    {
        if (fault is not SqliteException { SqliteErrorCode: SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED })
        {
            SqliteConnection.ClearAllPools();
        }
    }

    public override int Migrate() => Schema.Migrate(this);

    /// <summary>
    /// The watch opens its connection now when the file exists. Its first open drops every pooled
    /// connection (they may hold a file replaced before the watch looked), so opened before the
    /// master key check and the migrations, it drops none, and the first request reads on theirs.
    /// </summary>
    public override IChangeWatch WatchChanges(TimeProvider time)
    {
        var watch = new ChangeWatch(this, time);
        if (MayHoldData)
        {
            try
            {
                watch.CheckForChanges();
            }
            catch (SqliteException)
            {
                // Unreadable now: the first request tries again, and answers 503 if it still is.
            }
        }
        return watch;
    }

    public override int ReadVersion(DbConnection connection, DbTransaction? transaction = null) =>
        Schema.ReadVersion((SqliteConnection)connection, (SqliteTransaction?)transaction);

    internal SqliteConnection OpenOrCreate()
    {
        if (ReadOnly)
        {
            throw new InvalidOperationException("A read-only database is never created or migrated.");
        }
        RequireWritableFolder();
        return OpenWith(ConnectionString(Path, SqliteOpenMode.ReadWriteCreate));
    }

    /// <summary>SQLite's WAL needs to create files beside the database: say so plainly if it cannot.</summary>
    private void RequireWritableFolder()
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        if (!Directory.Exists(directory))
        {
            throw new ConfigurationException($"The database directory {directory} does not exist.");
        }
        var probe = System.IO.Path.Combine(directory, $".cloud-providers-write-check-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"The database directory {directory} is not writable (Database:ReadOnly=true serves a replica read-only).");
        }
    }

    private static SqliteConnection OpenWith(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static string ConnectionString(string path, SqliteOpenMode mode) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = mode,
        Pooling = true,
        ForeignKeys = true,
        DefaultTimeout = BusyTimeoutSeconds,
    }.ToString();
}
