using System.Net;
using System.Security.Cryptography;
using System.Text;
using CloudProviders.Storage;
using CloudProviders.Tests.Support;
using Microsoft.IdentityModel.Tokens;

namespace CloudProviders.Tests.Api;

public sealed class JwtCallerTests : IDisposable
{
    private readonly ServiceFactory _app = new();

    public JwtCallerTests() => _app.SeedTeamA();

    private async Task<HttpResponseMessage> Get(string token, string? team = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718293")
    {
        using var client = _app.ClientWith(token);
        if (team is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("X-Team-ID", team);
        }
        return await client.GetAsync(HttpAssert.StatusPath);
    }

    [Fact]
    public async Task Every_role_reads_the_status_with_HS256_RS256_PS256_and_ES256()
    {
        var tokens = new[]
        {
            TestKeys.Hs256(TestUsers.Owner),
            _app.Keys.Rs256(TestUsers.Admin),
            _app.Keys.Ps256(TestUsers.Member),
            _app.Keys.Es256(TestUsers.Viewer),
        };
        foreach (var token in tokens)
        {
            var body = await HttpAssert.Json(await Get(token), HttpStatusCode.OK);
            Assert.Equal("comfy_cloud", body.GetProperty("provider_name").GetString());
        }
    }

    [Fact]
    public async Task The_team_header_may_be_upper_case()
    {
        await HttpAssert.Json(await Get(TestKeys.Hs256(TestUsers.Owner), ServiceFactory.TeamA.ToString().ToUpperInvariant()), HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-uuid")]
    [InlineData("0190d9b87c1e7a2b9c3d4e5f60718293")]
    [InlineData("{0190d9b8-7c1e-7a2b-9c3d-4e5f60718293}")]
    [InlineData("0190d9b8-7c1e-7a2b-9c3d-4e5f60718293,0190d9b8-7c1e-7a2b-9c3d-4e5f60718294")]
    [InlineData("' OR 1=1 --")]
    public async Task A_jwt_caller_without_a_canonical_team_header_gets_400(string? header)
    {
        var message = await HttpAssert.Error(await Get(TestKeys.Hs256(TestUsers.Owner), header), HttpStatusCode.BadRequest);
        Assert.Contains("X-Team-ID", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_repeated_team_header_gets_400()
    {
        using var client = _app.ClientWith(TestKeys.Hs256(TestUsers.Owner));
        using var request = new HttpRequestMessage(HttpMethod.Get, HttpAssert.StatusPath);
        request.Headers.TryAddWithoutValidation("X-Team-ID", [ServiceFactory.TeamA.ToString(), ServiceFactory.TeamA.ToString()]);
        await HttpAssert.Error(await client.SendAsync(request), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Authentication_comes_before_the_team_header()
    {
        await HttpAssert.Error(await Get("a.b.c", team: null), HttpStatusCode.Unauthorized);
        await HttpAssert.Error(await Get(TestKeys.Hs256(TestUsers.Owner)[..^2], team: "junk"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_non_member_and_an_unknown_team_get_the_same_403()
    {
        var nonMember = await HttpAssert.Error(await Get(TestKeys.Hs256(TestUsers.OtherTeamOwner)), HttpStatusCode.Forbidden);
        var noTeam = await HttpAssert.Error(await Get(TestKeys.Hs256(TestUsers.Owner), Guid.NewGuid().ToString()), HttpStatusCode.Forbidden);
        var nilTeam = await HttpAssert.Error(await Get(TestKeys.Hs256(TestUsers.Owner), Guid.Empty.ToString()), HttpStatusCode.Forbidden);
        Assert.Equal(nonMember, noTeam);
        Assert.Equal(nonMember, nilTeam);
    }

    [Fact]
    public async Task A_member_removed_between_two_requests_is_refused_at_the_second()
    {
        var token = TestKeys.Hs256(TestUsers.Member);
        await HttpAssert.Json(await Get(token), HttpStatusCode.OK);
        Assert.Equal(MemberChange.Done, _app.Get<TeamStore>().RemoveMember(ServiceFactory.TeamA, TestUsers.Member));
        await HttpAssert.Error(await Get(token), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Alg_none_in_any_spelling_gets_401()
    {
        foreach (var alg in new[] { "none", "None", "NONE", "nOnE" })
        {
            var token = TestKeys.Craft($$"""{"alg":"{{alg}}","typ":"JWT"}""", TestKeys.Payload(), signature: "");
            await HttpAssert.Error(await Get(token.TrimEnd('.') + "."), HttpStatusCode.Unauthorized);
            await HttpAssert.Error(await Get(TestKeys.Craft($$"""{"alg":"{{alg}}"}""", TestKeys.Payload())), HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task A_token_HMAC_signed_with_the_public_key_bytes_gets_401()
    {
        var pemBytes = Encoding.ASCII.GetBytes(_app.Keys.Rsa.ExportSubjectPublicKeyInfoPem());
        var derBytes = _app.Keys.Rsa.ExportSubjectPublicKeyInfo();
        foreach (var key in new[] { pemBytes, derBytes })
        {
            var token = TestKeys.Craft("""{"alg":"HS256","typ":"JWT"}""", TestKeys.Payload(), key);
            await HttpAssert.Error(await Get(token), HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task A_token_signed_with_another_secret_or_key_gets_401()
    {
        var otherSecret = TestKeys.Craft("""{"alg":"HS256"}""", TestKeys.Payload(), RandomNumberGenerator.GetBytes(32));
        await HttpAssert.Error(await Get(otherSecret), HttpStatusCode.Unauthorized);
        using var otherKeys = new TestKeys();
        await HttpAssert.Error(await Get(otherKeys.Rs256(TestUsers.Owner)), HttpStatusCode.Unauthorized);
        await HttpAssert.Error(await Get(otherKeys.Es256(TestUsers.Owner)), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Claims_outside_the_rules_get_401()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = """{"alg":"HS256","typ":"JWT"}""";
        var payloads = new[]
        {
            $$"""{"iss":"{{TestKeys.Issuer}}","aud":"{{TestKeys.Audience}}","sub":"alice"}""",
            $$"""{"iss":"{{TestKeys.Issuer}}","aud":"{{TestKeys.Audience}}","sub":"alice","exp":{{now - 60}}}""",
            $$"""{"iss":"{{TestKeys.Issuer}}","aud":"{{TestKeys.Audience}}","sub":"alice","exp":{{now + 600}},"nbf":{{now + 300}}}""",
            $$"""{"iss":"{{TestKeys.Issuer}}","aud":"{{TestKeys.Audience}}","sub":"alice","exp":{{now + 600}},"iat":{{now + 3600}}}""",
            $$"""{"iss":"{{TestKeys.Issuer}}","sub":"alice","exp":{{now + 600}}}""",
            $$"""{"iss":"{{TestKeys.Issuer}}","aud":"someone-else","sub":"alice","exp":{{now + 600}}}""",
            $$"""{"iss":"{{TestKeys.Issuer}}","aud":["a","b"],"sub":"alice","exp":{{now + 600}}}""",
            $$"""{"iss":"https://evil.test","aud":"{{TestKeys.Audience}}","sub":"alice","exp":{{now + 600}}}""",
            $$"""{"aud":"{{TestKeys.Audience}}","sub":"alice","exp":{{now + 600}}}""",
            $$"""{"iss":"{{TestKeys.Issuer}}","aud":"{{TestKeys.Audience}}","exp":{{now + 600}}}""",
            $$"""{"iss":"{{TestKeys.Issuer}}","aud":"{{TestKeys.Audience}}","sub":"","exp":{{now + 600}}}""",
            $$"""{"iss":"{{TestKeys.Issuer}}","aud":"{{TestKeys.Audience}}","sub":42,"exp":{{now + 600}}}""",
            $$"""{"iss":"{{TestKeys.Issuer}}","aud":"{{TestKeys.Audience}}","sub":["alice"],"exp":{{now + 600}}}""",
            $$"""{"iss":"{{TestKeys.Issuer}}","aud":"{{TestKeys.Audience}}","sub":"alice","sub":"alice","exp":{{now + 600}}}""",
        };
        foreach (var payload in payloads)
        {
            await HttpAssert.Error(await Get(TestKeys.Craft(header, payload)), HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task Expiry_within_the_clock_skew_is_accepted()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = $$"""{"iss":"{{TestKeys.Issuer}}","aud":"{{TestKeys.Audience}}","sub":"alice","exp":{{now - 10}}}""";
        await HttpAssert.Json(await Get(TestKeys.Craft("""{"alg":"HS256"}""", payload)), HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_audience_list_that_holds_ours_is_accepted()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = $$"""{"iss":"{{TestKeys.Issuer}}","aud":["other","{{TestKeys.Audience}}"],"sub":"alice","exp":{{now + 600}}}""";
        await HttpAssert.Json(await Get(TestKeys.Craft("""{"alg":"HS256","typ":"JWT"}""", payload)), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Key_injecting_headers_get_401()
    {
        var jwk = $$"""{"kty":"oct","k":"{{Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(TestKeys.Secret))}}"}""";
        var headers = new[]
        {
            $$"""{"alg":"HS256","jwk":{{jwk}}}""",
            """{"alg":"HS256","jku":"http://127.0.0.1:9/jwks.json"}""",
            """{"alg":"HS256","x5u":"http://127.0.0.1:9/cert.pem"}""",
            """{"alg":"HS256","x5c":["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]}""",
            """{"alg":"HS256","crit":["urn:example:unknown"],"urn:example:unknown":true}""",
            """{"alg":"HS256","b64":false,"crit":["b64"]}""",
        };
        foreach (var header in headers)
        {
            await HttpAssert.Error(await Get(TestKeys.Craft(header, TestKeys.Payload())), HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task A_kid_naming_nothing_still_verifies_against_the_configured_keys_only()
    {
        var good = TestKeys.Craft("""{"alg":"HS256","kid":"../../../../dev/null"}""", TestKeys.Payload());
        await HttpAssert.Json(await Get(good), HttpStatusCode.OK);
        var forged = TestKeys.Craft("""{"alg":"HS256","kid":"../../../../dev/null"}""", TestKeys.Payload(), []);
        await HttpAssert.Error(await Get(forged), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Malformed_token_shapes_get_401()
    {
        var good = TestKeys.Hs256(TestUsers.Owner);
        var parts = good.Split('.');
        var shapes = new[]
        {
            $"{parts[0]}.{parts[1]}",
            $"{good}.{parts[2]}.{parts[2]}",
            $"{good}.{parts[2]}.{parts[2]}.{parts[2]}",
            $"{parts[0]}=.{parts[1]}.{parts[2]}",
            $"{parts[0]}.{parts[1]}.{parts[2].Replace('-', '+').Replace('_', '/')}+",
            $"{Base64UrlEncoder.Encode("[1]")}.{parts[1]}.{parts[2]}",
            $"{parts[0]}.{Base64UrlEncoder.Encode("\"alice\"")}.{parts[2]}",
            good + new string('A', 9000),
        };
        foreach (var token in shapes)
        {
            await HttpAssert.Error(await Get(token), HttpStatusCode.Unauthorized);
        }
    }

    public void Dispose() => _app.Dispose();
}
