using CloudProviders.Domain;

namespace CloudProviders.Storage;

/// <summary>What was done to a credential, as the audit trail and the metrics name it.</summary>
internal enum AuditAction { Set, Replace, Revoke, Test }

/// <param name="Outcome">For a test, and a set that was verified first: what the provider said (<see cref="KeyCheckResult"/>'s name).</param>
internal sealed record AuditEntry(
    DateTimeOffset At, Guid TeamId, string ProviderId, string Action, string ActorKind, string Actor, string? KeyPreview,
    string? Outcome = null, int? UpstreamStatus = null);

/// <summary>
/// Every change to a credential (set, replace, revoke) and every test of a stored key, by HTTP or
/// the command line. It holds who, the preview and a test's outcome, never the key. Written inside
/// the change's own transaction.
/// </summary>
internal sealed class AuditTrail(Database database)
{
    public const int DefaultLimit = 100;

    /// <param name="check">The provider's answer, for a test or a verified set.</param>
    internal static void Record(Write write, long at, Guid teamId, Provider provider, AuditAction action, Actor actor, string? keyPreview, KeyCheck? check = null)
    {
        using var command = write.Command("""
            INSERT INTO credential_audit (at, team_id, provider, action, actor_kind, actor, key_preview, outcome, upstream_status)
            VALUES (@at, @team, @provider, @action, @kind, @actor, @preview, @outcome, @upstream);
            """);
        command.With("@at", at).With("@team", TeamId.Format(teamId)).With("@provider", provider.Id).With("@action", action.Name())
            .With("@kind", actor.Kind.Name()).With("@actor", actor.Id).With("@preview", keyPreview)
            .With("@outcome", check?.Result.Name()).With("@upstream", check?.UpstreamStatus)
            .ExecuteNonQuery();
    }

    /// <summary>The team's trail, newest first.</summary>
    public IReadOnlyList<AuditEntry> List(Guid teamId, int limit = DefaultLimit)
    {
        using var connection = database.Open();
        using var command = connection.Command("""
            SELECT at, team_id, provider, action, actor_kind, actor, key_preview, outcome, upstream_status FROM credential_audit
            WHERE team_id = @team ORDER BY id DESC LIMIT @limit;
            """).With("@team", TeamId.Format(teamId)).With("@limit", limit);
        using var reader = command.ExecuteReader();
        var entries = new List<AuditEntry>();
        while (reader.Read())
        {
            entries.Add(new AuditEntry(
                DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(0)),
                Guid.ParseExact(reader.GetString(1), "D"),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetInt32(8)));
        }
        return entries;
    }
}
