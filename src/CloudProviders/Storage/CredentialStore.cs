using CloudProviders.Domain;
using Microsoft.Data.Sqlite;

namespace CloudProviders.Storage;

/// <summary>
/// Provider credentials, one per team and provider. The key is stored only as AES-GCM
/// ciphertext, beside its preview; revoking destroys the ciphertext.
/// </summary>
internal sealed class CredentialStore(Database database, TimeProvider time, Lazy<CredentialCipher> cipher)
{
    private const string StatusColumns = "status, cloud_fallback, key_preview, created_at, updated_at";

    public CredentialStatus? Find(Guid teamId, Provider provider)
    {
        using var connection = database.Open();
        return Find(connection, null, teamId, provider);
    }

    /// <summary>
    /// Creates or replaces the key, and records it in the audit trail, in one transaction.
    /// A replacement keeps <c>created_at</c> and makes the status active. The HTTP API and the
    /// command line both set keys through here.
    /// </summary>
    /// <returns>The new status; null when the team does not exist.</returns>
    public CredentialStatus? Set(Guid teamId, Provider provider, string key, bool cloudFallback, Actor actor)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        using var connection = OpenForWrite();
        using var transaction = connection.BeginTransaction(deferred: false);
        if (!TeamStore.TeamExists(connection, teamId, transaction))
        {
            return null;
        }
        var replacing = Find(connection, transaction, teamId, provider) is not null;
        StorageSetup.RequireKey(connection, transaction, cipher.Value);
        var ciphertext = cipher.Value.Seal(teamId, provider.Id, key);
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO credentials (team_id, provider, status, cloud_fallback, ciphertext, key_preview, created_at, updated_at)
                VALUES ($team, $provider, 'active', $fallback, $ciphertext, $preview, $now, $now)
                ON CONFLICT (team_id, provider) DO UPDATE SET
                    status = 'active',
                    cloud_fallback = excluded.cloud_fallback,
                    ciphertext = excluded.ciphertext,
                    key_preview = excluded.key_preview,
                    updated_at = excluded.updated_at;
                """;
            command.Parameters.AddWithValue("$team", TeamId.Format(teamId));
            command.Parameters.AddWithValue("$provider", provider.Id);
            command.Parameters.AddWithValue("$fallback", cloudFallback ? 1 : 0);
            command.Parameters.AddWithValue("$ciphertext", ciphertext);
            command.Parameters.AddWithValue("$preview", (object?)KeyPreview.For(key) ?? DBNull.Value);
            command.Parameters.AddWithValue("$now", now);
            command.ExecuteNonQuery();
        }
        var status = Find(connection, transaction, teamId, provider)!;
        AuditTrail.Record(connection, transaction, now, teamId, provider, replacing ? AuditAction.Replace : AuditAction.Set, actor, status.KeyPreview);
        transaction.Commit();
        return status;
    }

    /// <summary>
    /// Revokes: status revoked, fallback off, ciphertext destroyed; preview and <c>created_at</c> stay.
    /// Revoking a revoked credential changes nothing, and records nothing.
    /// </summary>
    /// <returns>The status after; null when nothing is configured.</returns>
    public CredentialStatus? Revoke(Guid teamId, Provider provider, Actor actor)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        using var connection = OpenForWrite();
        using var transaction = connection.BeginTransaction(deferred: false);
        bool changed;
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                UPDATE credentials
                SET status = 'revoked', cloud_fallback = 0, ciphertext = NULL, updated_at = $now
                WHERE team_id = $team AND provider = $provider AND status = 'active';
                """;
            command.Parameters.AddWithValue("$team", TeamId.Format(teamId));
            command.Parameters.AddWithValue("$provider", provider.Id);
            command.Parameters.AddWithValue("$now", now);
            changed = command.ExecuteNonQuery() == 1;
        }
        var status = Find(connection, transaction, teamId, provider);
        if (changed)
        {
            AuditTrail.Record(connection, transaction, now, teamId, provider, AuditAction.Revoke, actor, status!.KeyPreview);
        }
        transaction.Commit();
        return status;
    }

    /// <summary>Decrypts the stored key. Only for rotation and tests: the API never returns it.</summary>
    internal string? ReadKey(Guid teamId, Provider provider)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT ciphertext FROM credentials WHERE team_id = $team AND provider = $provider;";
        command.Parameters.AddWithValue("$team", TeamId.Format(teamId));
        command.Parameters.AddWithValue("$provider", provider.Id);
        return command.ExecuteScalar() is byte[] bytes ? cipher.Value.Open(teamId, provider.Id, bytes) : null;
    }

    /// <summary>
    /// Re-encrypts every stored key from the current master key to <paramref name="next"/>, in one
    /// transaction: any key that does not open under the current master key aborts it all.
    /// </summary>
    /// <returns>How many keys were re-encrypted.</returns>
    public int Reencrypt(CredentialCipher next)
    {
        using var connection = OpenForWrite();
        using var transaction = connection.BeginTransaction(deferred: false);
        var rows = new List<(string Team, string Provider, byte[] Ciphertext)>();
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT team_id, provider, ciphertext FROM credentials WHERE ciphertext IS NOT NULL;";
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                rows.Add((reader.GetString(0), reader.GetString(1), (byte[])reader.GetValue(2)));
            }
        }
        foreach (var (team, provider, ciphertext) in rows)
        {
            var teamId = Guid.ParseExact(team, "D");
            var key = cipher.Value.Open(teamId, provider, ciphertext);
            using var update = connection.CreateCommand();
            update.Transaction = transaction;
            update.CommandText = "UPDATE credentials SET ciphertext = $ciphertext WHERE team_id = $team AND provider = $provider;";
            update.Parameters.AddWithValue("$ciphertext", next.Seal(teamId, provider, key));
            update.Parameters.AddWithValue("$team", team);
            update.Parameters.AddWithValue("$provider", provider);
            update.ExecuteNonQuery();
        }
        StorageSetup.Replace(connection, transaction, next);
        transaction.Commit();
        return rows.Count;
    }

    /// <summary>A write connection that zeroes freed pages, so a destroyed ciphertext leaves no copy in the file.</summary>
    private SqliteConnection OpenForWrite()
    {
        var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA secure_delete = ON;";
        command.ExecuteNonQuery();
        return connection;
    }

    private static CredentialStatus? Find(SqliteConnection connection, SqliteTransaction? transaction, Guid teamId, Provider provider)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT {StatusColumns} FROM credentials WHERE team_id = $team AND provider = $provider;";
        command.Parameters.AddWithValue("$team", TeamId.Format(teamId));
        command.Parameters.AddWithValue("$provider", provider.Id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadStatus(reader, provider) : null;
    }

    private static CredentialStatus ReadStatus(SqliteDataReader reader, Provider provider) => new(
        provider,
        Active: reader.GetString(0) == "active",
        CloudFallback: reader.GetInt64(1) == 1,
        KeyPreview: reader.IsDBNull(2) ? null : reader.GetString(2),
        CreatedAt: DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(3)),
        UpdatedAt: DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(4)));
}
