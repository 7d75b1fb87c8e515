using System.Security.Cryptography;
using CloudProviders.Domain;
using CloudProviders.Storage;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CloudProviders.Cli;

/// <summary>
/// What <c>demo</c> adds to <c>serve</c>: a throwaway JWT secret where none is configured, a demo
/// team with an owner, a credential and fresh keys, and curl commands that work as printed.
/// </summary>
internal static class DemoSeed
{
    public static readonly Guid DemoTeamId = Guid.ParseExact("11111111-2222-4333-8444-555555555555", "D");
    public const string DemoUser = "demo-user";
    private const string DemoIssuer = "cloud-providers-demo";
    private const string DemoAudience = "cloud-providers-demo";

    /// <summary>Where no JWT secret is configured, the demo brings a throwaway one so its JWT curl works.</summary>
    public static void Configure(WebApplicationBuilder builder)
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
    public static Action<string> Seed(WebApplication app)
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
            var demoKey = NewComfyKey();
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
        var newKey = NewComfyKey();
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

    /// <summary>A made-up key in the real format: <c>comfyui-</c> and 64 hex digits.</summary>
    private static string NewComfyKey() => "comfyui-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
}
