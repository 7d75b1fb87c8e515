using System.Data.Common;
using CloudProviders.Domain;
using CloudProviders.Metrics;

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
    /// <param name="verified">The provider's answer, where the key was tested before it was set.</param>
    /// <returns>The new status; null when the team does not exist.</returns>
    public CredentialStatus? Set(Guid teamId, Provider provider, string key, bool cloudFallback, Actor actor, KeyCheck? verified = null)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        using var write = database.BeginWrite();
        // The team's row, locked: writers of the same team's credential take turns.
        if (!TeamStore.TeamExists(write, teamId))
        {
            return null;
        }
        var replacing = Find(write.Connection, write.Transaction, teamId, provider) is not null;
        MasterKeyCheck.RequireKey(write, cipher.Value);
        var ciphertext = cipher.Value.Seal(teamId, provider.Id, key);
        using (var command = write.Command("""
            INSERT INTO credentials (team_id, provider, status, cloud_fallback, ciphertext, key_preview, created_at, updated_at)
            VALUES (@team, @provider, 'active', @fallback, @ciphertext, @preview, @now, @now)
            ON CONFLICT (team_id, provider) DO UPDATE SET
                status = 'active',
                cloud_fallback = excluded.cloud_fallback,
                ciphertext = excluded.ciphertext,
                key_preview = excluded.key_preview,
                updated_at = excluded.updated_at;
            """))
        {
            command.With("@team", TeamId.Format(teamId)).With("@provider", provider.Id).With("@fallback", cloudFallback)
                .With("@ciphertext", ciphertext).With("@preview", KeyPreview.For(key)).With("@now", now)
                .ExecuteNonQuery();
        }
        var status = Find(write.Connection, write.Transaction, teamId, provider)!;
        var action = replacing ? AuditAction.Replace : AuditAction.Set;
        AuditTrail.Record(write, now, teamId, provider, action, actor, status.KeyPreview, verified);
        write.Commit();
        ServiceMetrics.CredentialWrites.Add(1, new KeyValuePair<string, object?>("action", action.Name()));
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
        using var write = database.BeginWrite();
        bool changed;
        using (var command = write.Command("""
            UPDATE credentials
            SET status = 'revoked', cloud_fallback = @off, ciphertext = NULL, updated_at = @now
            WHERE team_id = @team AND provider = @provider AND status = 'active';
            """))
        {
            changed = command.With("@team", TeamId.Format(teamId)).With("@provider", provider.Id).With("@off", false).With("@now", now)
                .ExecuteNonQuery() == 1;
        }
        var status = Find(write.Connection, write.Transaction, teamId, provider);
        if (changed)
        {
            AuditTrail.Record(write, now, teamId, provider, AuditAction.Revoke, actor, status!.KeyPreview);
            write.Commit();
            ServiceMetrics.CredentialWrites.Add(1, new KeyValuePair<string, object?>("action", AuditAction.Revoke.Name()));
        }
        return status;
    }

    /// <summary>
    /// Records a test of the stored key in the audit trail. Nothing a read cache holds changes, so
    /// no instance is told.
    /// </summary>
    public void RecordTest(Guid teamId, Provider provider, Actor actor, string? keyPreview, KeyCheck check)
    {
        using var write = database.BeginWrite();
        AuditTrail.Record(write, check.CheckedAt.ToUnixTimeSeconds(), teamId, provider, AuditAction.Test, actor, keyPreview, check);
        write.CommitUnannounced();
    }

    /// <summary>Decrypts the stored key: for rotation, and to test it against its provider. The API never returns it.</summary>
    internal string? ReadKey(Guid teamId, Provider provider)
    {
        using var connection = database.Open();
        using var command = connection.Command("SELECT ciphertext FROM credentials WHERE team_id = @team AND provider = @provider;")
            .With("@team", TeamId.Format(teamId)).With("@provider", provider.Id);
        return command.ExecuteScalar() is byte[] bytes ? cipher.Value.Open(teamId, provider.Id, bytes) : null;
    }

    /// <summary>
    /// Re-encrypts every stored key from the current master key to <paramref name="next"/>, in one
    /// transaction: any key that does not open under the current master key aborts it all.
    /// </summary>
    /// <returns>How many keys were re-encrypted.</returns>
    public int Reencrypt(CredentialCipher next)
    {
        using var write = database.BeginWrite();
        // The check value's row, locked first: a write that is sealing under the old key finishes
        // before this reads the keys, and one that starts later sees the new check value.
        MasterKeyCheck.LockForRotation(write);
        var rows = new List<(string Team, string Provider, byte[] Ciphertext)>();
        using (var select = write.Command($"SELECT team_id, provider, ciphertext FROM credentials WHERE ciphertext IS NOT NULL{database.ForUpdate};"))
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                rows.Add((reader.GetString(0), reader.GetString(1), (byte[])reader.GetValue(2)));
            }
        }
        foreach (var (team, provider, ciphertext) in rows)
        {
            var teamId = Guid.ParseExact(team, "D");
            var key = cipher.Value.Open(teamId, provider, ciphertext);
            using var update = write.Command("UPDATE credentials SET ciphertext = @ciphertext WHERE team_id = @team AND provider = @provider;");
            update.With("@ciphertext", next.Seal(teamId, provider, key)).With("@team", team).With("@provider", provider).ExecuteNonQuery();
        }
        MasterKeyCheck.Replace(write, next);
        write.Commit();
        return rows.Count;
    }

    private static CredentialStatus? Find(DbConnection connection, DbTransaction? transaction, Guid teamId, Provider provider)
    {
        using var command = connection.Command($"SELECT {StatusColumns} FROM credentials WHERE team_id = @team AND provider = @provider;", transaction)
            .With("@team", TeamId.Format(teamId)).With("@provider", provider.Id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadStatus(reader, provider) : null;
    }

    private static CredentialStatus ReadStatus(DbDataReader reader, Provider provider) => new(
        provider,
        Active: reader.GetString(0) == "active",
        CloudFallback: reader.GetBoolean(1),
        KeyPreview: reader.IsDBNull(2) ? null : reader.GetString(2),
        CreatedAt: DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(3)),
        UpdatedAt: DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(4)));
}
