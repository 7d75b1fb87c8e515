using System.CommandLine;
using CloudProviders.Domain;
using CloudProviders.Storage;
using static CloudProviders.Cli.AdminCommands;

namespace CloudProviders.Cli;

/// <summary>The <c>member</c> verb. Team members and their roles: add, remove, list.</summary>
internal static class MemberCommand
{
    public static Command Build(Option<string?> db, Usage.Arguments split)
    {
        var member = new Command("member", "Manage team members and their roles.");
        var teamId = TeamIdArgument();
        var userId = new Argument<string>("user-id") { Description = "The user's id: the JWT sub." };
        var role = OneOf("--role", $"{string.Join(", ", EnumNames<Role>.All)}.", EnumNames<Role>.All);

        var add = new Command("add", "Add a member to a team.") { teamId, userId, role };
        add.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var user = UserId(parse.GetValue(userId));
            var parsedRole = EnumNames<Role>.Parse(parse.GetValue(role)) ?? throw new CliException($"--role must be one of {string.Join(", ", EnumNames<Role>.All)}.");
            return admin =>
            {
            switch (admin.Teams.AddMember(id, user, parsedRole))
            {
                case MemberChange.NoSuchTeam:
                    throw UnknownTeam(id);
                case MemberChange.AlreadyMember:
                    throw new CliException($"{user} is already a member of team {TeamId.Format(id)}.");
            }
            };
        }));

        var remove = new Command("remove", "Remove a member from a team.") { teamId, userId };
        remove.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var user = UserId(parse.GetValue(userId));
            return admin =>
            {
            switch (admin.Teams.RemoveMember(id, user))
            {
                case MemberChange.NoSuchTeam:
                    throw UnknownTeam(id);
                case MemberChange.NotMember:
                    throw new CliException($"{user} is not a member of team {TeamId.Format(id)}.");
            }
            };
        }));

        var list = new Command("list", "List a team's members: user, role, added (tab-separated).") { teamId };
        list.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            return admin =>
            {
                RequireTeam(admin, id);
                foreach (var m in admin.Teams.ListMembers(id))
                {
                    admin.WriteRow(m.UserId, m.Role.Name(), Rfc3339.Format(m.AddedAt));
                }
            };
        }));

        member.Subcommands.Add(add);
        member.Subcommands.Add(remove);
        member.Subcommands.Add(list);
        return member;
    }
}
