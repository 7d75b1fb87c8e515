using System.Text;
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

    /// <summary>
    /// Every row of every table and the schema version, as text: what the database holds, whichever
    /// of its files holds it (a checkpoint moves rows from the WAL into the main file at its own time).
    /// </summary>
    public static string Contents(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        var contents = new StringBuilder();
        var tables = Rows(connection, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name;");
        contents.AppendJoin('\n', Rows(connection, "PRAGMA user_version;"));
        foreach (var table in tables)
        {
            var rows = Rows(connection, $"SELECT * FROM \"{table}\";");
            rows.Sort(StringComparer.Ordinal);
            contents.Append('\n').Append(table).Append('\n').AppendJoin('\n', rows);
        }
        return contents.ToString();
    }

    private static List<string> Rows(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        var values = new object[reader.FieldCount];
        while (reader.Read())
        {
            reader.GetValues(values);
            rows.Add(string.Join('|', values.Select(value => value is byte[] bytes ? Convert.ToHexString(bytes) : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture))));
        }
        return rows;
    }
}
