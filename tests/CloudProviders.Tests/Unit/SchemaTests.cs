using CloudProviders.Domain;
using CloudProviders.Storage;
using Microsoft.Data.Sqlite;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Unit;

public sealed class SchemaTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cloud-providers-tests", Guid.NewGuid().ToString("N"));

    public SchemaTests() => Directory.CreateDirectory(_folder);

    private SqliteDatabase NewDatabase() => new(Path.Combine(_folder, "schema.db"));

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

    [Fact]
    public void A_database_from_schema_version_1_upgrades_in_place_and_reads_the_same_status()
    {
        var database = NewDatabase();
        Schema.Migrate(database, targetVersion: 1);
        var team = Guid.Parse("0190d9b8-7c1e-7a2b-9c3d-4e5f60718293");
        var masterKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var cipher = new CredentialCipher(masterKey);
        using (var connection = database.Open())
        using (var command = connection.CreateCommand())
        {
            // Exactly what version 1 of the binary wrote.
            command.CommandText = """
                INSERT INTO teams (id, name, created_at) VALUES ($team, 'Acme', 1748779200);
                INSERT INTO members (team_id, user_id, role, created_at) VALUES ($team, 'alice', 'owner', 1748779200);
                INSERT INTO credentials (team_id, provider, status, cloud_fallback, ciphertext, key_preview, created_at, updated_at)
                VALUES ($team, 'comfy_cloud', 'active', 1, $ciphertext, 'comfyui-...89ab', 1748779200, 1749976200);
                """;
            ((Microsoft.Data.Sqlite.SqliteCommand)command).Parameters.AddWithValue("$team", TeamId.Format(team));
            ((Microsoft.Data.Sqlite.SqliteCommand)command).Parameters.AddWithValue("$ciphertext", cipher.Seal(team, "comfy_cloud", Support.ServiceFactory.ComfyKey));
            command.ExecuteNonQuery();
        }

        Assert.Equal(1, Schema.Migrate(database));

        var store = new CredentialStore(database, TimeProvider.System, new Lazy<CredentialCipher>(() => new CredentialCipher(masterKey)));
        var status = store.Find(team, Domain.Provider.ComfyCloud)!;
        Assert.Equal(
            "{\"provider_name\":\"comfy_cloud\",\"credential_status\":\"active\",\"cloud_fallback\":true,\"created_at\":\"2025-06-01T12:00:00Z\",\"updated_at\":\"2025-06-15T08:30:00Z\",\"key_preview\":\"comfyui-...89ab\"}",
            System.Text.Json.JsonSerializer.Serialize(Http.StatusBody.From(status), Http.WireJsonContext.Default.StatusBody));
        Assert.Equal(Support.ServiceFactory.ComfyKey, store.ReadKey(team, Domain.Provider.ComfyCloud));
        Assert.Equal(Role.Owner, new TeamStore(database, TimeProvider.System).FindRole(team, TestUsers.Owner));

        // The new table works on the upgraded file.
        store.Revoke(team, Domain.Provider.ComfyCloud, Domain.Actor.Cli);
        var entry = Assert.Single(new AuditTrail(database).List(team));
        Assert.Equal(("revoke", "cli"), (entry.Action, entry.Actor));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}
