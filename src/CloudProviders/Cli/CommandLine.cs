using System.CommandLine;
using CloudProviders.Storage;

namespace CloudProviders.Cli;

/// <summary>
/// The executable's verbs. <c>serve</c> is the default, and any argument no verb claims is handed
/// to the host (WebApplicationFactory passes <c>--environment</c>, <c>--contentRoot</c> and friends).
/// </summary>
internal static class CommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = Build();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var message = string.Join(' ', parse.Errors[0].Message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            await Console.Error.WriteLineAsync($"error: {message}");
            return ExitCodes.Usage;
        }
        // Unclaimed options go to the host, but a bare word that is no verb is a typo.
        if (parse.CommandResult.Command == root && args.Length > 0 && !args[0].StartsWith('-'))
        {
            await Console.Error.WriteLineAsync($"error: unknown command '{args[0]}'. Run cloud-providers --help for the list.");
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

    internal static RootCommand Build()
    {
        var db = new Option<string?>("--db")
        {
            Description = $"The SQLite file (default: Database:Path, else ./{Settings.DefaultDatabasePath}).",
            Recursive = true,
        };
        var urls = new Option<string?>("--urls") { Description = $"Where to listen (default {App.DefaultUrl})." };

        var root = new RootCommand("CloudProviders: a team's ComfyUI Cloud credential status, and its admin tool.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        root.Options.Add(db);
        root.Options.Add(urls);
        root.SetAction((parse, _) => ServeCommand.RunAsync(parse, db, urls, demo: false));

        var serve = new Command("serve", "Serve the HTTP API (the default).") { TreatUnmatchedTokensAsErrors = false };
        serve.Options.Add(urls);
        serve.SetAction((parse, _) => ServeCommand.RunAsync(parse, db, urls, demo: false));
        root.Subcommands.Add(serve);

        var demo = new Command("demo", "Seed a demo team, print curl commands that work, and serve.") { TreatUnmatchedTokensAsErrors = false };
        demo.Options.Add(urls);
        demo.SetAction((parse, _) => ServeCommand.RunAsync(parse, db, urls, demo: true));
        root.Subcommands.Add(demo);

        var migrate = new Command("migrate", "Create the database or bring its schema up to date.");
        // AdminCommands.Run migrates before every verb; this one only reports.
        migrate.SetAction(parse => AdminCommands.Run(parse, db, admin =>
            admin.Output.WriteLine($"{admin.Database.Path}: schema version {Schema.Version}")));
        root.Subcommands.Add(migrate);

        root.Subcommands.Add(AdminCommands.Team(db));
        root.Subcommands.Add(AdminCommands.Member(db));
        root.Subcommands.Add(AdminCommands.Key(db));
        root.Subcommands.Add(AdminCommands.Credential(db));
        root.Subcommands.Add(AdminCommands.Audit(db));
        root.Subcommands.Add(AdminCommands.Encryption(db));
        return root;
    }
}

internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
}

/// <summary>Bad input from the operator: printed as one line, exit non-zero, nothing changed.</summary>
internal sealed class CliException(string message) : Exception(message);

/// <summary>Configuration for commands outside the host: appsettings.json, environment, then <c>--db</c>.</summary>
internal static class CliConfiguration
{
    public static IConfiguration Load(string? databasePath)
    {
        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true, reloadOnChange: false)
            .AddEnvironmentVariables();
        if (databasePath is not null)
        {
            builder.AddInMemoryCollection([new("Database:Path", databasePath)]);
        }
        return builder.Build();
    }
}
