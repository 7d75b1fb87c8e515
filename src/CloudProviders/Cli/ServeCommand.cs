using System.CommandLine;
using System.Data.Common;
using CloudProviders.Http;
using CloudProviders.Storage;

namespace CloudProviders.Cli;

/// <summary><c>serve</c> (the default) and <c>demo</c>, which seeds a demo team first.</summary>
internal static class ServeCommand
{
    public static async Task<int> RunAsync(ParseResult parse, Usage.Arguments split, Option<string?> db, Option<string?> urls, bool demo)
    {
        // Unclaimed arguments belong to the host; --db and --urls become host configuration.
        var hostArgs = new List<string>([.. split.Host, .. split.Configuration]);
        if (parse.GetValue(db) is { } path)
        {
            hostArgs.Add($"--Database:Path={path}");
        }
        if (parse.GetValue(urls) is { } listen)
        {
            hostArgs.Add($"--urls={listen}");
        }

        WebApplication? app = null;
        try
        {
            app = App.Build([.. hostArgs], demo ? DemoSeed.Configure : null);
            if (!ApiDescriptionGenerator.Included)
            {
                // The generator's build only reads the routes: it opens no database.
                App.Initialize(app.Services);
            }
            if (demo)
            {
                var printCommands = DemoSeed.Seed(app);
                // Print once the server listens, with the address it really bound.
                app.Lifetime.ApplicationStarted.Register(() => printCommands(app.Urls.First()));
            }
            await app.RunAsync();
            // Zero, unless the service stopped itself on a failure it could not get past.
            return Environment.ExitCode;
        }
        catch (Exception e) when (Describe(e, app) is { } problem)
        {
            if (app is not null)
            {
                // Nothing a refused start opened outlives it: with the change watch's connection
                // closed, SQLite removes the -wal and -shm files the start's reads created.
                await app.DisposeAsync();
            }
            await Console.Error.WriteLineAsync($"error: {Printable.Escape(problem)}");
            return ExitCodes.Failed;
        }
    }

    /// <summary>The one line an operator reads for a failed start; null for a fault that is a bug.</summary>
    private static string? Describe(Exception exception, WebApplication? app) => exception switch
    {
        ConfigurationException or SchemaException or CliException => exception.Message,
        DbException storage => StorageErrors.Describe(storage, app?.Services.GetService<Settings>()?.DatabasePath ?? Settings.DefaultDatabasePath),
        IOException { InnerException: Microsoft.AspNetCore.Connections.AddressInUseException } =>
            $"{AddressOf(exception.Message)} is already in use by another process; choose another port with --urls (for example --urls http://127.0.0.1:8081), or urls / ASPNETCORE_URLS.",
        IOException => $"The server could not start listening: {exception.Message}",
        _ => null,
    };

    /// <summary>Kestrel's bind failure names the address: "Failed to bind to address http://127.0.0.1:8080: address already in use."</summary>
    private static string AddressOf(string message)
    {
        const string Lead = "Failed to bind to address ";
        var start = message.IndexOf(Lead, StringComparison.Ordinal);
        var end = message.LastIndexOf(": ", StringComparison.Ordinal);
        return start >= 0 && end > start ? message[(start + Lead.Length)..end] : "The address";
    }
}
