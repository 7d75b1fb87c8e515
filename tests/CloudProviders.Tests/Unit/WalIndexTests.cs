using CloudProviders.Storage;
using Microsoft.Data.Sqlite;

namespace CloudProviders.Tests.Unit;

/// <summary>The change check's fast path: SQLite's own WAL-index header, read without a system call.</summary>
public sealed class WalIndexTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("cloud-providers-wal-");

    private string PathOf(string name) => Path.Combine(_folder.FullName, name);

    private static SqliteConnection Open(string path, string mode = "ReadWriteCreate")
    {
        var connection = new SqliteConnection($"Data Source={path};Mode={mode};Pooling=False");
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact]
    public void A_commit_from_another_connection_changes_the_header_and_nothing_else_does()
    {
        var path = PathOf("wal.db");
        using var writer = Open(path);
        Execute(writer, "PRAGMA journal_mode=WAL; CREATE TABLE t(v); INSERT INTO t VALUES (1);");
        using var watcher = Open(path, "ReadOnly");
        Execute(watcher, "SELECT count(*) FROM t;");

        var index = WalIndex.Of(watcher);
        Assert.True(index.TryRead(out var first));
        Assert.True(index.TryRead(out var again));
        Assert.Equal(first, again);

        Execute(writer, "INSERT INTO t VALUES (2);");
        Assert.True(index.TryRead(out var afterCommit));
        Assert.NotEqual(first, afterCommit);

        Execute(writer, "SELECT count(*) FROM t;");
        Assert.True(index.TryRead(out var afterRead));
        Assert.Equal(afterCommit, afterRead);
    }

    [Fact]
    public void A_database_not_in_wal_mode_has_no_index_and_the_watch_falls_back()
    {
        var path = PathOf("delete.db");
        using var connection = Open(path);
        Execute(connection, "PRAGMA journal_mode=DELETE; CREATE TABLE t(v);");
        Assert.False(WalIndex.Of(connection).TryRead(out _));
        Assert.False(File.Exists(path + "-shm"));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }
}
