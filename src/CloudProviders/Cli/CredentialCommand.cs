using System.CommandLine;
using System.Text.Json;
using CloudProviders.Domain;
using CloudProviders.Http;
using CloudProviders.Upstream;
using static CloudProviders.Cli.AdminCommands;

namespace CloudProviders.Cli;

/// <summary>The <c>credential</c> verb. A team's provider credential: set (from stdin), test, revoke, show.</summary>
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
        var verify = new Option<bool>("--verify") { Description = "Test the key against the provider first, and set it only if the provider accepts it (exit 3 if it rejects it, 4 if it cannot be reached)." };

        var set = new Command("set", "Set or replace the key, read from stdin (never an argument).") { teamId, provider, fallback, verify };
        set.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var p = ParseProvider(parse.GetValue(provider));
            var key = KeyInput.Read(TeamId.Format(id));
            var cloudFallback = parse.GetValue(fallback);
            var verifyFirst = parse.GetValue(verify);
            return admin =>
            {
                RequireTeam(admin, id);
                KeyCheck? check = null;
                if (verifyFirst)
                {
                    check = admin.Tests.TestCandidateAsync(key, CancellationToken.None).GetAwaiter().GetResult();
                    if (check.Result != KeyCheckResult.Valid)
                    {
                        Refused(admin, check);
                        return;
                    }
                }
                var status = admin.Credentials.Set(id, p, key, cloudFallback, Actor.Cli, check) ?? throw UnknownTeam(id);
                admin.WriteStatus(status);
            };
        }));

        var test = new Command("test", "Test the stored key against the provider and print the outcome as JSON: exit 0 valid, 3 rejected, 4 unreachable.") { teamId, provider };
        test.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var p = ParseProvider(parse.GetValue(provider));
            return admin =>
            {
                RequireTeam(admin, id);
                var (check, missing) = admin.Tests.TestStoredAsync(id, p, Actor.Cli, CancellationToken.None).GetAwaiter().GetResult();
                if (check is null)
                {
                    throw new CliException(KeyTests.Describe(missing));
                }
                admin.Output.WriteLine(JsonSerializer.Serialize(KeyTestBody.From(p, check), WireJsonContext.Default.KeyTestBody));
                admin.ExitCode = ExitCodeOf(check.Result);
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
        credential.Subcommands.Add(test);
        credential.Subcommands.Add(revoke);
        credential.Subcommands.Add(show);
        return credential;
    }

    private static int ExitCodeOf(KeyCheckResult result) => result switch
    {
        KeyCheckResult.Valid => ExitCodes.Ok,
        KeyCheckResult.Rejected => ExitCodes.KeyRejected,
        _ => ExitCodes.ProviderUnreachable,
    };

    /// <summary>A verified set that the provider refused, or could not be asked about: one line, and nothing changed.</summary>
    private static void Refused(AdminContext admin, KeyCheck check)
    {
        var upstream = check.UpstreamStatus is { } status ? $" (HTTP {status})" : "";
        admin.Error.WriteLine(check.Result == KeyCheckResult.Rejected
            ? $"error: ComfyUI Cloud rejected this key{upstream}; nothing was changed."
            : $"error: ComfyUI Cloud could not be reached to verify the key{upstream}; nothing was changed. Try again shortly.");
        admin.ExitCode = ExitCodeOf(check.Result);
    }
}
