using System.CommandLine;
using CloudProviders.Domain;
using static CloudProviders.Cli.AdminCommands;

namespace CloudProviders.Cli;

/// <summary>The <c>credential</c> verb. A team's provider credential: set (from stdin), revoke, show.</summary>
internal static class CredentialCommand
{
    public static Command Build(Option<string?> db, Usage.Arguments split)
    {
        var credential = new Command("credential", "Manage a team's provider credential.");
        var teamId = TeamIdArgument();
        var provider = OneOf("--provider", "The provider.", [.. Provider.All.Select(p => p.Slug)]);
        provider.Required = false;
        provider.DefaultValueFactory = _ => Provider.ComfyCloud.Slug;
        var fallback = new Option<bool>("--cloud-fallback") { Description = "Turn cloud fallback on (default: off)." };

        var set = new Command("set", "Set or replace the key, read from stdin (never an argument).") { teamId, provider, fallback };
        set.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var p = ParseProvider(parse.GetValue(provider));
            var key = KeyInput.Read(TeamId.Format(id));
            var cloudFallback = parse.GetValue(fallback);
            return admin =>
            {
                var status = admin.Credentials.Set(id, p, key, cloudFallback, Actor.Cli) ?? throw UnknownTeam(id);
                admin.WriteStatus(status);
            };
        }));

        // Revoke and show differ only in what they do to the team's credential; both print its status.
        Command OnCredential(string name, string description, Func<AdminContext, Guid, Provider, CredentialStatus?> act)
        {
            var command = new Command(name, description) { teamId, provider };
            command.SetAction(parse => Run(parse, split, db, () =>
            {
                var id = ParseTeamId(parse.GetValue(teamId));
                var p = ParseProvider(parse.GetValue(provider));
                return admin =>
                {
                    RequireTeam(admin, id);
                    admin.WriteStatus(act(admin, id, p) ?? throw NoCredential(id));
                };
            }));
            return command;
        }
        var revoke = OnCredential("revoke", "Revoke the key: status revoked, fallback off, ciphertext destroyed.",
            (admin, id, p) => admin.Credentials.Revoke(id, p, Actor.Cli));
        var show = OnCredential("show", "Print the status body, exactly as the API returns it.",
            (admin, id, p) => admin.Credentials.Find(id, p));

        credential.Subcommands.Add(set);
        credential.Subcommands.Add(revoke);
        credential.Subcommands.Add(show);
        return credential;
    }
}
