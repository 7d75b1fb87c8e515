using System.CommandLine;
using System.Security.Cryptography;
using CloudProviders.Domain;
using CloudProviders.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CloudProviders.Cli;

/// <summary><c>serve</c> (the default) and <c>demo</c>, which seeds a demo team first.</summary>
internal static class ServeCommand
{
    public static readonly Guid DemoTeamId = Guid.ParseExact("11111111-2222-4333-8444-555555555555", "D");
    public const string DemoUser = "demo-user";
    private const string DemoIssuer = "cloud-providers-demo";
    private const string DemoAudience = "cloud-providers-demo";

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
            app = App.Build([.. hostArgs], demo ? PrepareDemo : null);
            App.Initialize(app.Services);
            if (demo)
            {
                var printCommands = SeedDemo(app);
                // Print once the server listens, with the address it really bound.
                app.Lifetime.ApplicationStarted.Register(() => printCommands(app.Urls.First()));
            }
            App.WarmUpInBackground(app.Services);
            await app.RunAsync();
            return ExitCodes.Ok;
        }
        catch (Exception e) when (Describe(e, app) is { } problem)
        {
            await Console.Error.WriteLineAsync($"error: {Printable.Escape(problem)}");
            return ExitCodes.Failed;
        }
    }

    /// <summary>The one line an operator reads for a failed start; null for a fault that is a bug.</summary>
    private static string? Describe(Exception exception, WebApplication? app) => exception switch
    {
        ConfigurationException or SchemaException or CliException => exception.Message,
        SqliteException sqlite => StorageErrors.Describe(sqlite, app?.Services.GetService<Settings>()?.DatabasePath ?? Settings.DefaultDatabasePath),
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

    /// <summary>Where no JWT secret is configured, the demo brings a throwaway one so its JWT curl works.</summary>
    private static void PrepareDemo(WebApplicationBuilder builder)
    {
        if (builder.Configuration["Jwt:SigningKey"] is null && builder.Configuration["Jwt:PublicKeysFile"] is null)
        {
            builder.Configuration.AddInMemoryCollection(
            [
                new("Jwt:SigningKey", Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32))),
                new("Jwt:Issuer", DemoIssuer),
                new("Jwt:Audience", DemoAudience),
            ]);
        }
    }

    /// <returns>What prints the curl commands, given the listening URL.</returns>
    private static Action<string> SeedDemo(WebApplication app)
    {
        var services = app.Services;
        var settings = services.GetRequiredService<Settings>();
        var teams = services.GetRequiredService<TeamStore>();
        var keys = services.GetRequiredService<ApiKeyStore>();
        var credentials = services.GetRequiredService<CredentialStore>();

        teams.AddTeam(DemoTeamId, "Demo team");
        teams.AddMember(DemoTeamId, DemoUser, Role.Owner);
        if (credentials.Find(DemoTeamId, Provider.ComfyCloud) is not { Active: true })
        {
            var demoKey = "comfyui-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            credentials.Set(DemoTeamId, Provider.ComfyCloud, demoKey, cloudFallback: false, Actor.Cli);
        }
        var sk = keys.Create(DemoTeamId, ApiKeyKind.Sk, "demo", lifetime: null)!;
        var dk = keys.Create(DemoTeamId, ApiKeyKind.Dk, "demo", lifetime: null)!;

        var team = TeamId.Format(DemoTeamId);
        var jwt = settings.JwtSigningKey is { } secret ? DemoJwt(settings, secret) : null;
        return listening => PrintCommands($"{PublicBase(listening)}/api/v1/cloud-providers/{Provider.ComfyCloud.Slug}", team, sk, dk, jwt);
    }

    private static void PrintCommands(string url, string team, string sk, string dk, string? jwt)
    {
        Console.WriteLine($"""

            Demo team {team} is ready, with a ComfyUI Cloud credential.

            Read the status with the integration key (sk-):
              curl -i {url} -H 'Authorization: Bearer {sk}'

            With the device key (dk-):
              curl -i {url} -H 'Authorization: Bearer {dk}'
            """);
        if (jwt is not null)
        {
            Console.WriteLine($"""

                As the team's owner, with a user JWT ({DemoUser}, valid 12 hours) and the team header:
                  curl -i {url} -H 'Authorization: Bearer {jwt}' -H 'X-Team-ID: {team}'
                """);
        }
        var newKey = "comfyui-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        Console.WriteLine($$"""

            Set or replace the key, with the device key (dk-) or an owner's JWT:
              curl -i -X PUT {{url}} -H 'Authorization: Bearer {{dk}}' -H 'Content-Type: application/json' -d '{"api_key":"{{newKey}}","cloud_fallback":true}'

            Revoke it:
              curl -i -X DELETE {{url}} -H 'Authorization: Bearer {{dk}}'

            Without a token you get 401:
              curl -i {{url}}

            """);
    }

    private static string DemoJwt(Settings settings, string secret) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = settings.JwtIssuer,
        Audience = settings.JwtAudience,
        Claims = new Dictionary<string, object> { ["sub"] = DemoUser },
        IssuedAt = DateTime.UtcNow,
        NotBefore = DateTime.UtcNow,
        Expires = DateTime.UtcNow.AddHours(12),
        SigningCredentials = new SigningCredentials(
            new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
    });

    /// <summary>A listening URL as a client would type it.</summary>
    private static string PublicBase(string url) =>
        url.Replace("://+", "://localhost", StringComparison.Ordinal)
            .Replace("://*", "://localhost", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal)
            .Replace("://[::]", "://localhost", StringComparison.Ordinal)
            .TrimEnd('/');
}
