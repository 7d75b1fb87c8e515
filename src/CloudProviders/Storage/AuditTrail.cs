using CloudProviders.Domain;
using Microsoft.Data.Sqlite;

namespace CloudProviders.Storage;

internal enum AuditAction { Set, Replace, Revoke }

internal sealed record AuditEntry(DateTimeOffset At, Guid TeamId, string ProviderId, string Action, string ActorKind, string Actor, string? KeyPreview);

/// <summary>
/// Every change to a credential: set, replace, revoke, by HTTP or the command line. It holds
/// who and the preview, never the key. Written inside the change's own transaction.
/// </summary>
internal sealed class AuditTrail(Database database)
{
    public const int DefaultLimit = 100;

    internal static void Record(
        SqliteConnection connection, SqliteTransaction transaction, long at,
        Guid teamId, Provider provider, AuditAction action, Actor actor, string? keyPreview)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO credential_audit (at, team_id, provider, action, actor_kind, actor, key_preview)
            VALUES ($at, $team, $provider, $action, $kind, $actor, $preview);
            """;
        command.Parameters.AddWithValue("$at", at);
        command.Parameters.AddWithValue("$team", TeamId.Format(teamId));
        command.Parameters.AddWithValue("$provider", provider.Id);
        command.Parameters.AddWithValue("$action", Name(action));
        command.Parameters.AddWithValue("$kind", actor.KindName);
        command.Parameters.AddWithValue("$actor", actor.Id);
        command.Parameters.AddWithValue("$preview", (object?)keyPreview ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    /// <summary>The team's trail, newest first.</summary>
    public IReadOnlyList<AuditEntry> List(Guid teamId, int limit = DefaultLimit)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT at, team_id, provider, action, actor_kind, actor, key_preview FROM credential_audit
            WHERE team_id = $team ORDER BY id DESC LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$team", TeamId.Format(teamId));
        command.Parameters.AddWithValue("$limit", limit);
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
                reader.IsDBNull(6) ? null : reader.GetString(6)));
        }
        return entries;
    }

    private static string Name(AuditAction action) => action switch
    {
        AuditAction.Set => "set",
        AuditAction.Replace => "replace",
        _ => "revoke",
    };
}
