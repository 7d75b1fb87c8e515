using System.Text;
using Npgsql;

namespace CloudProviders.Tests.Support;

/// <summary>
/// Which engine the contract tests run on. <c>tests/run.sh</c> runs them twice: on SQLite files,
/// then with <c>CLOUD_PROVIDERS_TEST_ENGINE=postgres</c> on a throwaway PostgreSQL server
/// (<c>CLOUD_PROVIDERS_TEST_POSTGRES</c>), each fixture in a database of its own. Tests of what
/// only SQLite has (its file, its replicas) carry <see cref="SqliteOnly"/>, and the second run
/// leaves them out.
/// </summary>
internal static class TestEngine
{
    /// <summary>The trait that marks a test of SQLite's own behaviour: <c>[Trait(TestEngine.Trait, TestEngine.SqliteOnly)]</c>.</summary>
    public const string Trait = "Engine";
    public const string SqliteOnly = "sqlite";

    /// <summary>Marks a test of PostgreSQL's own behaviour, on the <c>-p:Postgres=true</c> build: it runs once, in the first run.</summary>
    public const string PostgresOnly = "postgres";

    public static bool Postgres => System.Environment.GetEnvironmentVariable("CLOUD_PROVIDERS_TEST_ENGINE") == "postgres";

    /// <summary>The server's superuser, from <c>tests/postgres.sh</c>.</summary>
    public static string ServerConnectionString =>
        System.Environment.GetEnvironmentVariable("CLOUD_PROVIDERS_TEST_POSTGRES") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("CLOUD_PROVIDERS_TEST_POSTGRES is not set: run the PostgreSQL tests through bash tests/run.sh, which starts a server.");
}

/// <summary>
/// Marks a test that loads the machine on purpose (a fleet of servers, a load balancer under
/// load): <c>tests/run.sh</c> runs these in a pass of their own, one at a time, after the others,
/// so that neither they nor the timing of other tests depend on what runs beside them.
/// </summary>
internal static class TestLoad
{
    public const string Trait = "Load";
    public const string Fleet = "fleet";
}

/// <summary>A fresh, empty PostgreSQL database for one fixture, dropped with it.</summary>
internal sealed class PostgresTestDatabase : IDisposable
{
    public PostgresTestDatabase()
    {
        Name = "cp_test_" + Guid.NewGuid().ToString("N");
        Execute(TestEngine.ServerConnectionString, $"CREATE DATABASE {Name};");
        ConnectionString = new NpgsqlConnectionStringBuilder(TestEngine.ServerConnectionString) { Database = Name }.ConnectionString;
        SecretLedger.Record(new NpgsqlConnectionStringBuilder(TestEngine.ServerConnectionString).Password);
    }

    public string Name { get; }

    /// <summary>To the superuser, on loopback, password included.</summary>
    public string ConnectionString { get; }

    /// <summary>Every value in every table as text, byte strings byte for byte: what a leak check scans.</summary>
    public string Dump()
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        var tables = new List<string>();
        using (var list = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public';", connection))
        using (var reader = list.ExecuteReader())
        {
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }
        var text = new StringBuilder();
        foreach (var table in tables)
        {
            using var select = new NpgsqlCommand($"SELECT * FROM \"{table}\";", connection);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    text.Append(reader.GetValue(i) switch
                    {
                        byte[] bytes => Encoding.Latin1.GetString(bytes),
                        var value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
                    }).Append('\n');
                }
            }
        }
        return text.ToString();
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Execute(TestEngine.ServerConnectionString, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE);");
    }

    /// <summary>One value, read as the superuser in this database.</summary>
    public object? Scalar(string sql)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return command.ExecuteScalar();
    }

    public void Execute(string sql) => Execute(ConnectionString, sql);

    public static void Execute(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
