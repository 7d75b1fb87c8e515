using System.CommandLine;
using CloudProviders.Storage;

namespace CloudProviders.Cli;

/// <summary>
/// The executable's verbs. <c>serve</c> is the default. Every verb takes configuration arguments
/// (<c>--Section:Key=value</c>); the verbs that start the host also take the host's own
/// (<c>--environment</c>, <c>--contentRoot</c>, <c>--applicationName</c>). Nothing else unknown
/// is accepted (<see cref="Usage"/>).
/// </summary>
internal static class CommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        var split = Usage.Split(args);
        var root = Build(split);
        var parse = root.Parse(split.Rest);
        var verb = parse.CommandResult.Command;
        if (Usage.Problem(parse, split, startsHost: verb == root || verb.Name is "serve" or "demo") is { } problem)
        {
            await Console.Error.WriteLineAsync($"error: {Printable.Escape(problem)}");
            return ExitCodes.Usage;
        }
        return await parse.InvokeAsync(new InvocationConfiguration
        {
            // Exceptions reach Main's caller (the host, or WebApplicationFactory) unchanged.
            EnableDefaultExceptionHandler = false,
            // The host handles SIGTERM itself, with a graceful shutdown.
            ProcessTerminationTimeout = null,
        });
    }

    internal static RootCommand Build(Usage.Arguments split)
    {
        var db = new Option<string?>("--db")
        {
            Description = $"The SQLite file (default: Database:Path, else ./{Settings.DefaultDatabasePath}).",
            Recursive = true,
        };
        var urls = new Option<string?>("--urls") { Description = $"Where to listen (default {Http.ListenUrls.DefaultUrl})." };

        var root = new RootCommand("CloudProviders: a team's ComfyUI Cloud credential status, and its admin tool.");
        root.Options.Add(db);
        root.Options.Add(urls);
        root.SetAction((parse, _) => ServeCommand.RunAsync(parse, split, db, urls, demo: false));

        var serve = new Command("serve", "Serve the HTTP API (the default).");
        serve.Options.Add(urls);
        serve.SetAction((parse, _) => ServeCommand.RunAsync(parse, split, db, urls, demo: false));
        root.Subcommands.Add(serve);

        var demo = new Command("demo", "Seed a demo team, print curl commands that work, and serve.");
        demo.Options.Add(urls);
        demo.SetAction((parse, _) => ServeCommand.RunAsync(parse, split, db, urls, demo: true));
        root.Subcommands.Add(demo);

        var migrate = new Command("migrate", "Create the database or bring its schema up to date.");
        // AdminCommands.Run migrates before every verb; this one only reports.
        migrate.SetAction(parse => AdminCommands.Run(parse, split, db, () => admin =>
            admin.Output.WriteLine(Printable.Escape($"{admin.Database.Name}: schema version {Schema.Version}"))));
        root.Subcommands.Add(migrate);

        root.Subcommands.Add(TeamCommand.Build(db, split));
        root.Subcommands.Add(MemberCommand.Build(db, split));
        root.Subcommands.Add(KeyCommand.Build(db, split));
        root.Subcommands.Add(CredentialCommand.Build(db, split));
        root.Subcommands.Add(AuditCommand.Build(db, split));
        root.Subcommands.Add(EncryptionCommand.Build(db, split));
        root.Subcommands.Add(ImportCommand.Build(db, split));
        return root;
    }
}
