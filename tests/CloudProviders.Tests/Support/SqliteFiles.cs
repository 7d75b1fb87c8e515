using Microsoft.Data.Sqlite;

namespace CloudProviders.Tests.Support;

internal static class SqliteFiles
{
    /// <summary>Folds the WAL into the main file and closes every pooled connection, so the file alone holds the data.</summary>
    public static void Checkpoint(string path)
    {
        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            command.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();
    }
}
