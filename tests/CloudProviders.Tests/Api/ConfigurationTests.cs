using System.Net;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Api;

public sealed class ConfigurationTests
{
    [Fact]
    public async Task Without_a_jwt_key_jwt_callers_get_401_and_the_service_says_so_once()
    {
        using var app = new ServiceFactory(s =>
        {
            s.Remove("Jwt:SigningKey");
            s.Remove("Jwt:PublicKeysFile");
            s.Remove("Jwt:Issuer");
            s.Remove("Jwt:Audience");
        });
        app.SeedTeamA();
        using var client = app.ClientWith(TestKeys.Hs256(TestUsers.Owner), ServiceFactory.TeamA);
        await HttpAssert.Error(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.Unauthorized);
        Assert.Single(app.Logs, line => line.Contains("No JWT key is configured", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_only_public_keys_an_HS256_token_gets_401_and_RS256_works()
    {
        using var app = new ServiceFactory(s => s.Remove("Jwt:SigningKey"));
        app.SeedTeamA();
        using var hs = app.ClientWith(TestKeys.Hs256(TestUsers.Owner), ServiceFactory.TeamA);
        await HttpAssert.Error(await hs.GetAsync(HttpAssert.StatusPath), HttpStatusCode.Unauthorized);
        using var rs = app.ClientWith(app.Keys.Rs256(TestUsers.Owner), ServiceFactory.TeamA);
        await HttpAssert.Json(await rs.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
    }

    [Fact]
    public async Task With_only_a_secret_an_RS256_token_gets_401()
    {
        using var app = new ServiceFactory(s => s.Remove("Jwt:PublicKeysFile"));
        app.SeedTeamA();
        using var rs = app.ClientWith(app.Keys.Rs256(TestUsers.Owner), ServiceFactory.TeamA);
        await HttpAssert.Error(await rs.GetAsync(HttpAssert.StatusPath), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_JWKS_file_is_accepted_as_the_public_keys()
    {
        using var keys = new TestKeys();
        var jwks = Microsoft.IdentityModel.Tokens.JsonWebKeyConverter.ConvertFromRSASecurityKey(new Microsoft.IdentityModel.Tokens.RsaSecurityKey(keys.Rsa.ExportParameters(false)));
        var path = Path.Combine(Path.GetTempPath(), $"jwks-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, $$"""{"keys":[{"kty":"RSA","use":"sig","kid":"k1","n":"{{jwks.N}}","e":"{{jwks.E}}"}]}""");
        try
        {
            using var app = new ServiceFactory(s => s["Jwt:PublicKeysFile"] = path);
            app.SeedTeamA();
            using var client = app.ClientWith(keys.Rs256(TestUsers.Owner), ServiceFactory.TeamA);
            await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("Jwt:SigningKey", "too-short", "at least 32 bytes")]
    [InlineData("Jwt:Issuer", null, "Jwt:Issuer and Jwt:Audience are required")]
    [InlineData("Encryption:KeyFile", "/nonexistent/key", "not both")]
    [InlineData("Encryption:Key", "bm90LTMyLWJ5dGVz", "exactly 32 bytes")]
    [InlineData("Jwt:ClockSkewSeconds", "-5", "Jwt:ClockSkewSeconds")]
    [InlineData("Jwt:PublicKeysFile", "/nonexistent/keys.pem", "Cannot read Jwt:PublicKeysFile")]
    [InlineData("Kestrel:Endpoints:Https:Url", "https://127.0.0.1:8443", "-p:InProcessTls=true")]
    [InlineData("Kestrel:Certificates:Default:Path", "/run/secrets/tls.pem", "serves plain HTTP")]
    [InlineData("urls", "https://127.0.0.1:8443", "serves plain HTTP")]
    public async Task A_configuration_error_stops_startup_with_one_clear_line(string key, string? value, string expected)
    {
        var error = await StartupError(key, value);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_small_RSA_key_stops_startup()
    {
        using var weak = System.Security.Cryptography.RSA.Create(1024);
        Assert.Contains("1024-bit", (await StartupErrorWithKeysFile(weak.ExportSubjectPublicKeyInfoPem())).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_EC_key_off_the_NIST_curves_stops_startup()
    {
        using var k1 = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.CreateFromFriendlyName("secp256k1"));
        Assert.Contains("curve", (await StartupErrorWithKeysFile(k1.ExportSubjectPublicKeyInfoPem())).Message, StringComparison.Ordinal);
    }

    private static async Task<ConfigurationException> StartupErrorWithKeysFile(string pem)
    {
        var path = Path.Combine(Path.GetTempPath(), $"keys-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(path, pem);
        try
        {
            return await StartupError("Jwt:PublicKeysFile", path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Builds the real app with the test settings plus one change, and runs its start-up checks.</summary>
    private static async Task<ConfigurationException> StartupError(string key, string? value)
    {
        using var factory = new ServiceFactory(s => s[key] = value);
        var settings = new Dictionary<string, string?>
        {
            ["Database:Path"] = factory.DatabasePath,
            ["Encryption:Key"] = Convert.ToBase64String(new byte[32]),
            ["Jwt:Issuer"] = TestKeys.Issuer,
            ["Jwt:Audience"] = TestKeys.Audience,
            ["Jwt:SigningKey"] = TestKeys.Secret,
            [key] = value,
        };
        var args = settings.Where(s => s.Value is not null).Select(s => $"--{s.Key}={s.Value}").ToArray();
        Microsoft.AspNetCore.Builder.WebApplication? app = null;
        try
        {
            return Assert.Throws<ConfigurationException>(() =>
            {
                app = App.Build(args);
                App.Initialize(app.Services);
            });
        }
        finally
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }
    }
}
