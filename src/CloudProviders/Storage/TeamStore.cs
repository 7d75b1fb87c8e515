using CloudProviders.Domain;
using Microsoft.Data.Sqlite;

namespace CloudProviders.Storage;

internal sealed record Member(string UserId, Role Role, DateTimeOffset AddedAt);

internal enum MemberChange { Done, NoSuchTeam, AlreadyMember, NotMember }

/// <summary>Teams and their members.</summary>
internal sealed class TeamStore(Database database, TimeProvider time)
{
    /// <returns>False when the team already exists.</returns>
    public bool AddTeam(Guid teamId, string name)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO teams (id, name, created_at) VALUES ($id, $name, $now)
            ON CONFLICT (id) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$id", TeamId.Format(teamId));
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$now", time.GetUtcNow().ToUnixTimeSeconds());
        return command.ExecuteNonQuery() == 1;
    }

    public bool TeamExists(Guid teamId)
    {
        using var connection = database.Open();
        return TeamExists(connection, teamId);
    }

    internal static bool TeamExists(SqliteConnection connection, Guid teamId, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT 1 FROM teams WHERE id = $id;";
        command.Parameters.AddWithValue("$id", TeamId.Format(teamId));
        return command.ExecuteScalar() is not null;
    }

    public MemberChange AddMember(Guid teamId, string userId, Role role)
    {
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        if (!TeamExists(connection, teamId, transaction))
        {
            return MemberChange.NoSuchTeam;
        }
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO members (team_id, user_id, role, created_at) VALUES ($team, $user, $role, $now)
            ON CONFLICT (team_id, user_id) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$team", TeamId.Format(teamId));
        command.Parameters.AddWithValue("$user", userId);
        command.Parameters.AddWithValue("$role", role.Name());
        command.Parameters.AddWithValue("$now", time.GetUtcNow().ToUnixTimeSeconds());
        var added = command.ExecuteNonQuery() == 1;
        transaction.Commit();
        return added ? MemberChange.Done : MemberChange.AlreadyMember;
    }

    public MemberChange RemoveMember(Guid teamId, string userId)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM members WHERE team_id = $team AND user_id = $user;";
        command.Parameters.AddWithValue("$team", TeamId.Format(teamId));
        command.Parameters.AddWithValue("$user", userId);
        if (command.ExecuteNonQuery() == 1)
        {
            return MemberChange.Done;
        }
        return TeamExists(connection, teamId) ? MemberChange.NotMember : MemberChange.NoSuchTeam;
    }

    public IReadOnlyList<Member> ListMembers(Guid teamId)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT user_id, role, created_at FROM members WHERE team_id = $team ORDER BY created_at, user_id;
            """;
        command.Parameters.AddWithValue("$team", TeamId.Format(teamId));
        using var reader = command.ExecuteReader();
        var members = new List<Member>();
        while (reader.Read())
        {
            members.Add(new Member(
                reader.GetString(0),
                Roles.Parse(reader.GetString(1)) ?? Role.Viewer,
                DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(2))));
        }
        return members;
    }

    /// <summary>The user's role in the team, or null for a non-member or a team that does not exist.</summary>
    public Role? FindRole(Guid teamId, string userId)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT role FROM members WHERE team_id = $team AND user_id = $user;";
        command.Parameters.AddWithValue("$team", TeamId.Format(teamId));
        command.Parameters.AddWithValue("$user", userId);
        return Roles.Parse(command.ExecuteScalar() as string);
    }
}
