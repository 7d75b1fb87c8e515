using CloudProviders.Auth;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Unit;

public sealed class JwtPrecheckTests
{
    private static readonly HashSet<string> Hs256 = ["HS256"];
    private const string Header = """{"alg":"HS256","typ":"JWT"}""";

    private static bool Check(string token) =>
        JwtPrecheck.TryCheck(token, Hs256, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 30, out _, out _, out _);

    [Fact]
    public void A_well_formed_token_passes_and_yields_its_subject()
    {
        var token = TestKeys.Craft(Header, TestKeys.Payload());
        Assert.True(JwtPrecheck.TryCheck(token, Hs256, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 30, out var sub, out _, out _));
        Assert.Equal(TestUsers.Owner, sub);
    }

    [Theory]
    [InlineData("""{"alg":"none"}""")]
    [InlineData("""{"alg":"None"}""")]
    [InlineData("""{"alg":"NONE"}""")]
    [InlineData("""{"alg":"RS256"}""")]
    [InlineData("""{"alg":"hs256"}""")]
    [InlineData("""{"typ":"JWT"}""")]
    [InlineData("""{"alg":["HS256"]}""")]
    [InlineData("""{"alg":"HS256","alg":"HS256"}""")]
    [InlineData("""{"alg":"HS256","crit":["exp"]}""")]
    [InlineData("""{"alg":"HS256","jku":"https://evil.test/jwks"}""")]
    [InlineData("""{"alg":"HS256","x5u":"https://evil.test/cert"}""")]
    [InlineData("""{"alg":"HS256","jwk":{"kty":"oct","k":"AAAA"}}""")]
    [InlineData("""{"alg":"HS256","x5c":["MIIB"]}""")]
    [InlineData("""{"alg":"HS256","b64":false}""")]
    [InlineData("""{"alg":"HS256","enc":"A128GCM"}""")]
    [InlineData("""{"alg":"HS256","zip":"DEF"}""")]
    [InlineData("""{"alg":"HS256","typ":"JWE"}""")]
    [InlineData("""{"alg":"HS256","kid":1}""")]
    [InlineData("""["HS256"]""")]
    [InlineData("""{"alg":"HS256"} """ + "x")]
    public void Headers_the_RFCs_refuse_are_refused(string header)
    {
        Assert.False(Check(TestKeys.Craft(header, TestKeys.Payload())));
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("42")]
    [InlineData("[\"alice\"]")]
    [InlineData("{\"id\":\"alice\"}")]
    [InlineData("null")]
    [InlineData("true")]
    public void A_subject_that_is_not_a_non_empty_string_is_refused(string sub)
    {
        Assert.False(Check(TestKeys.Craft(Header, TestKeys.Payload(sub))));
    }

    [Fact]
    public void Claims_with_the_wrong_shape_or_repeated_are_refused()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.False(Check(TestKeys.Craft(Header, """{"sub":"alice"}""")));
        Assert.False(Check(TestKeys.Craft(Header, $$"""{"sub":"alice","exp":"{{now + 60}}"}""")));
        Assert.False(Check(TestKeys.Craft(Header, TestKeys.Payload(extra: ",\"sub\":\"mallory\""))));
        Assert.False(Check(TestKeys.Craft(Header, TestKeys.Payload(extra: ",\"s\\u0075b\":\"mallory\""))));
        Assert.False(Check(TestKeys.Craft(Header, TestKeys.Payload(extra: $",\"iat\":{now}"))));
        Assert.False(Check(TestKeys.Craft(Header, TestKeys.Payload(extra: ",\"aud\":[1]"))));
        Assert.False(Check(TestKeys.Craft(Header, TestKeys.Payload(extra: ",\"nbf\":\"soon\""))));
        Assert.False(Check(TestKeys.Craft(Header, "[1,2]")));
        Assert.False(Check(TestKeys.Craft(Header, "\"alice\"")));
    }

    [Theory]
    [InlineData(20, true)]
    [InlineData(3600, false)]
    public void An_iat_in_the_future_passes_only_within_the_clock_skew(int secondsAhead, bool passes)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.Equal(passes, Check(TestKeys.Craft(Header, $$"""{"sub":"alice","iat":{{now + secondsAhead}},"exp":{{now + 600}}}""")));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(6)]
    public void Only_three_segments_are_a_jws(int segments)
    {
        var token = string.Join('.', Enumerable.Repeat("eyJhbGciOiJIUzI1NiJ9", segments));
        Assert.False(Check(token));
    }

    [Fact]
    public void Padding_standard_base64_and_empty_segments_are_refused()
    {
        var good = TestKeys.Craft(Header, TestKeys.Payload());
        var parts = good.Split('.');
        Assert.False(Check($"{parts[0]}=.{parts[1]}.{parts[2]}"));
        Assert.False(Check($"{parts[0]}.{parts[1]}.{parts[2]}="));
        Assert.False(Check($"{parts[0].Replace('-', '+').Replace('_', '/')}+.{parts[1]}.{parts[2]}"));
        Assert.False(Check($".{parts[1]}.{parts[2]}"));
        Assert.False(Check($"{parts[0]}.{parts[1]}."));
        Assert.False(Check($"{parts[0]}..{parts[2]}"));
        Assert.False(Check(good + new string('A', JwtPrecheck.MaxTokenLength)));
    }

    [Theory]
    [InlineData("QQ", true)]
    [InlineData("QR", false)]
    [InlineData("QUE", true)]
    [InlineData("QUF", false)]
    [InlineData("QUFB", true)]
    [InlineData("Q", false)]
    [InlineData("QUFB=", false)]
    public void Base64url_must_be_canonical(string segment, bool ok)
    {
        Assert.Equal(ok, JwtPrecheck.IsCanonicalBase64Url(segment));
    }
}
