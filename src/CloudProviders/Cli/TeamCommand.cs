using System.CommandLine;
using System.Globalization;
using CloudProviders.Domain;
using static CloudProviders.Cli.AdminCommands;

namespace CloudProviders.Cli;

/// <summary>The <c>team</c> verb. Teams: add, list, remove.</summary>
internal static class TeamCommand
{
    public static Command Build(Option<string?> db, Usage.Arguments split)
    {
        var team = new Command("team", "Manage teams.");
        var teamId = TeamIdArgument();
        var name = new Option<string?>("--name") { Description = "A display name." };
        var add = new Command("add", "Add a team.") { teamId, name };
        add.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var displayName = Text(parse.GetValue(name), "--name", MaxNameLength) ?? "";
            return admin =>
            {
            if (!admin.Teams.AddTeam(id, displayName))
            {
                throw new CliException($"Team {TeamId.Format(id)} already exists.");
            }
            admin.Output.WriteLine(TeamId.Format(id));
            };
        }));
        var list = new Command("list", "List every team: id, name, created, members, keys (tab-separated).");
        list.SetAction(parse => Run(parse, split, db, () => admin =>
        {
            foreach (var t in admin.Teams.List())
            {
                admin.WriteRow(TeamId.Format(t.Id), t.Name, Rfc3339.Format(t.CreatedAt),
                    t.Members.ToString(CultureInfo.InvariantCulture), t.Keys.ToString(CultureInfo.InvariantCulture));
            }
        }));

        var removeId = TeamIdArgument();
        var remove = new Command("remove", "Remove a team and everything it owns, in one transaction: members, API keys (refused at once), credentials and audit rows.") { removeId };
        remove.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(removeId));
            return admin =>
            {
                var removed = admin.Teams.Remove(id) ?? throw new CliException($"No team {TeamId.Format(id)}: cloud-providers team list shows the teams there are.");
                admin.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"note: removed team {TeamId.Format(id)}: {removed.Members} members, {removed.Keys} API keys, {removed.Credentials} credentials, {removed.AuditRows} audit rows."));
            };
        }));

        team.Subcommands.Add(add);
        team.Subcommands.Add(list);
        team.Subcommands.Add(remove);
        return team;
    }
}
