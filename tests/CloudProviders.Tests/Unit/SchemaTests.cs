using CloudProviders.Storage;
using Microsoft.Data.Sqlite;

namespace CloudProviders.Tests.Unit;

public sealed class SchemaTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cloud-providers-tests", Guid.NewGuid().ToString("N"));

    public SchemaTests() => Directory.CreateDirectory(_folder);

    private Database NewDatabase() => new(Path.Combine(_folder, "schema.db"));

    [Fact]
    public void A_new_file_is_created_at_the_current_version_in_wal_mode()
    {
        var database = NewDatabase();
        Assert.Equal(0, Schema.Migrate(database));
        using var connection = database.Open();
        Assert.Equal(Schema.Version, Schema.ReadVersion(connection));
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", command.ExecuteScalar());
        Assert.True(database.IsReady(out _));
    }

    [Fact]
    public void Migrating_twice_changes_nothing()
    {
        var database = NewDatabase();
        Schema.Migrate(database);
        Assert.Equal(Schema.Version, Schema.Migrate(database));
    }

    [Fact]
    public void A_file_from_a_newer_binary_is_refused_and_not_ready()
    {
        var database = NewDatabase();
        Schema.Migrate(database);
        using (var connection = database.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"PRAGMA user_version = {Schema.Version + 1};";
            command.ExecuteNonQuery();
        }
        Assert.Throws<SchemaException>(() => Schema.Migrate(database));
        Assert.False(database.IsReady(out var problem));
        Assert.Contains("schema", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_not_ready_and_is_not_created_by_a_request_connection()
    {
        var database = NewDatabase();
        Assert.False(database.IsReady(out _));
        Assert.Throws<SqliteException>(() => database.Open());
        Assert.False(File.Exists(database.Path));
    }

    [Fact]
    public void A_file_of_random_bytes_is_not_ready()
    {
        var database = NewDatabase();
        File.WriteAllBytes(database.Path, System.Security.Cryptography.RandomNumberGenerator.GetBytes(8192));
        Assert.False(database.IsReady(out _));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}
