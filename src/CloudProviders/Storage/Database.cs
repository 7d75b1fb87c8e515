using Microsoft.Data.Sqlite;

namespace CloudProviders.Storage;

/// <summary>The one SQLite file. Connections are pooled; each request opens and closes one.</summary>
internal sealed class Database
{
    /// <summary>How long a statement waits on another writer's lock before it gives up (SQLITE_BUSY).</summary>
    public const int BusyTimeoutSeconds = 2;

    private readonly string _readWrite;
    private readonly string _readOnly;

    static Database() => SQLitePCL.Batteries_V2.Init();

    /// <param name="readOnly">A replica: every connection is read-only, and nothing creates or migrates the file.</param>
    public Database(string path, bool readOnly = false)
    {
        Path = System.IO.Path.GetFullPath(path);
        ReadOnly = readOnly;
        _readOnly = ConnectionString(Path, SqliteOpenMode.ReadOnly);
        _readWrite = readOnly ? _readOnly : ConnectionString(Path, SqliteOpenMode.ReadWrite);
    }

    public string Path { get; }

    public bool ReadOnly { get; }

    /// <summary>
    /// Opens the existing file for reading and writing (read-only on a replica). It never creates
    /// the file: only <see cref="Schema.Migrate(Database)"/> does, so a file that vanishes stays
    /// gone (and fails loudly).
    /// </summary>
    public SqliteConnection Open() => OpenWith(_readWrite);

    public SqliteConnection OpenReadOnly() => OpenWith(_readOnly);

    /// <summary>Readiness: the file opens, reads as SQLite, and has exactly this binary's schema version.</summary>
    public bool IsReady(out string problem)
    {
        try
        {
            using var connection = OpenReadOnly();
            var version = Schema.ReadVersion(connection);
            problem = version == Schema.Version
                ? ""
                : $"The database schema is version {version}; this binary serves version {Schema.Version}.";
        }
        catch (SqliteException)
        {
            problem = "The database cannot be opened.";
        }
        return problem.Length == 0;
    }

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
