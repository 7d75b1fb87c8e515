using CloudProviders.Domain;

namespace CloudProviders.Storage;

internal sealed record Member(string UserId, Role Role, DateTimeOffset AddedAt);

internal enum MemberChange { Done, NoSuchTeam, AlreadyMember, NotMember }

/// <summary>A team, as <c>team list</c> shows it.</summary>
internal sealed record TeamSummary(Guid Id, string Name, DateTimeOffset CreatedAt, int Members, int Keys);

/// <summary>What removing a team took with it: how many rows of each kind.</summary>
internal sealed record TeamRemoval(int Members, int Keys, int Credentials, int AuditRows);

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

    /// <summary>Every team, oldest first, with how many members and API keys it has.</summary>
    public IReadOnlyList<TeamSummary> List()
    {
        using var connection = database.Open();
        using var command = connection.Command("""
            SELECT t.id, t.name, t.created_at,
                (SELECT count(*) FROM members m WHERE m.team_id = t.id),
                (SELECT count(*) FROM api_keys k WHERE k.team_id = t.id)
            FROM teams t ORDER BY t.created_at, t.id;
            """);
        using var reader = command.ExecuteReader();
        var teams = new List<TeamSummary>();
        while (reader.Read())
        {
            teams.Add(new TeamSummary(Guid.ParseExact(reader.GetString(0), "D"), reader.GetString(1),
                DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(2)), Convert.ToInt32(reader.GetValue(3), System.Globalization.CultureInfo.InvariantCulture),
                Convert.ToInt32(reader.GetValue(4), System.Globalization.CultureInfo.InvariantCulture)));
        }
        return teams;
    }

    /// <summary>
    /// Removes a team and everything it owns, in one transaction, as the platform does: its
    /// members, its API keys (refused from the next request on, on every instance), its
    /// credentials (the ciphertext with them) and its audit rows, which name its users.
    /// </summary>
    /// <returns>How many rows of each kind went; null when there is no such team.</returns>
    public TeamRemoval? Remove(Guid teamId)
    {
        using var write = database.BeginWrite();
        if (!TeamExists(write, teamId))
        {
            return null;
        }
        var team = TeamId.Format(teamId);
        int Delete(string table)
        {
            using var command = write.Command($"DELETE FROM {table} WHERE team_id = @team;").With("@team", team);
            return command.ExecuteNonQuery();
        }
        var removal = new TeamRemoval(Delete("members"), Delete("api_keys"), Delete("credentials"), Delete("credential_audit"));
        using (var command = write.Command("DELETE FROM teams WHERE id = @team;").With("@team", team))
        {
            command.ExecuteNonQuery();
        }
        write.Commit();
        return removal;
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
