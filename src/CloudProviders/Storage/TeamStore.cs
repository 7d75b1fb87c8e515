using CloudProviders.Domain;

namespace CloudProviders.Storage;

internal sealed record Member(string UserId, Role Role, DateTimeOffset AddedAt);

internal enum MemberChange { Done, NoSuchTeam, AlreadyMember, NotMember }

/// <summary>Teams and their members.</summary>
internal sealed class TeamStore(Database database, TimeProvider time)
{
    /// <returns>False when the team already exists.</returns>
    public bool AddTeam(Guid teamId, string name)
    {
        using var write = database.BeginWrite();
        using var command = write.Command("""
            INSERT INTO teams (id, name, created_at) VALUES (@id, @name, @now)
            ON CONFLICT (id) DO NOTHING;
            """).With("@id", TeamId.Format(teamId)).With("@name", name).With("@now", time.GetUtcNow().ToUnixTimeSeconds());
        if (command.ExecuteNonQuery() != 1)
        {
            return false;
        }
        write.Commit();
        return true;
    }

    public bool TeamExists(Guid teamId)
    {
        using var connection = database.Open();
        using var command = connection.Command("SELECT 1 FROM teams WHERE id = @id;").With("@id", TeamId.Format(teamId));
        return command.ExecuteScalar() is not null;
    }

    /// <summary>Inside a write: whether the team exists, its row locked until the write ends, so that it cannot go meanwhile.</summary>
    internal static bool TeamExists(Write write, Guid teamId)
    {
        using var command = write.Command($"SELECT 1 FROM teams WHERE id = @id{write.Database.ForUpdate};").With("@id", TeamId.Format(teamId));
        return command.ExecuteScalar() is not null;
    }

    public MemberChange AddMember(Guid teamId, string userId, Role role)
    {
        using var write = database.BeginWrite();
        if (!TeamExists(write, teamId))
        {
            return MemberChange.NoSuchTeam;
        }
        using var command = write.Command("""
            INSERT INTO members (team_id, user_id, role, created_at) VALUES (@team, @user, @role, @now)
            ON CONFLICT (team_id, user_id) DO NOTHING;
            """).With("@team", TeamId.Format(teamId)).With("@user", userId).With("@role", role.Name()).With("@now", time.GetUtcNow().ToUnixTimeSeconds());
        if (command.ExecuteNonQuery() != 1)
        {
            return MemberChange.AlreadyMember;
        }
        write.Commit();
        return MemberChange.Done;
    }

    public MemberChange RemoveMember(Guid teamId, string userId)
    {
        using var write = database.BeginWrite();
        using var command = write.Command("DELETE FROM members WHERE team_id = @team AND user_id = @user;")
            .With("@team", TeamId.Format(teamId)).With("@user", userId);
        if (command.ExecuteNonQuery() == 1)
        {
            write.Commit();
            return MemberChange.Done;
        }
        return TeamExists(write, teamId) ? MemberChange.NotMember : MemberChange.NoSuchTeam;
    }

    public IReadOnlyList<Member> ListMembers(Guid teamId)
    {
        using var connection = database.Open();
        using var command = connection.Command("""
            SELECT user_id, role, created_at FROM members WHERE team_id = @team ORDER BY created_at, user_id;
            """).With("@team", TeamId.Format(teamId));
        using var reader = command.ExecuteReader();
        var members = new List<Member>();
        while (reader.Read())
        {
            members.Add(new Member(
                reader.GetString(0),
                EnumNames<Role>.Parse(reader.GetString(1)) ?? Role.Viewer,
                DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(2))));
        }
        return members;
    }

    /// <summary>The user's role in the team, or null for a non-member or a team that does not exist.</summary>
    public Role? FindRole(Guid teamId, string userId)
    {
        using var connection = database.Open();
        using var command = connection.Command("SELECT role FROM members WHERE team_id = @team AND user_id = @user;")
            .With("@team", TeamId.Format(teamId)).With("@user", userId);
        return EnumNames<Role>.Parse(command.ExecuteScalar() as string);
    }
}
