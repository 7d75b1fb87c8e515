using System.CommandLine;
using CloudProviders.Domain;
using static CloudProviders.Cli.AdminCommands;

namespace CloudProviders.Cli;

/// <summary>The <c>team</c> verb. Teams: add.</summary>
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
        team.Subcommands.Add(add);
        return team;
    }
}
