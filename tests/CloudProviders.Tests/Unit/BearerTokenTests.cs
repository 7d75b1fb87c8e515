using CloudProviders.Auth;
using CloudProviders.Domain;
using Microsoft.Extensions.Primitives;

namespace CloudProviders.Tests.Unit;

public sealed class BearerTokenTests
{
    private static readonly string Sk = ApiKeys.Generate(ApiKeyKind.Sk);

    [Theory]
    [InlineData("Bearer abc.def.ghi", "abc.def.ghi")]
    [InlineData("bearer abc", "abc")]
    [InlineData("BEARER abc==", "abc==")]
    public void The_scheme_matches_in_any_case(string header, string token)
    {
        Assert.True(BearerToken.TryRead(new StringValues(header), out var read));
        Assert.Equal(token, read.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    [InlineData("Bearer  abc")]
    [InlineData("Bearer\tabc")]
    [InlineData("Bearer abc ")]
    [InlineData("Bearer a b")]
    [InlineData("Basic YWxhZGRpbjpvcGVuc2VzYW1l")]
    [InlineData("Token abc")]
    [InlineData("Bearer abc\n")]
    [InlineData("Bearer =abc")]
    [InlineData("Bearer sk-abc%41")]
    public void Malformed_headers_carry_no_token(string header)
    {
        Assert.False(BearerToken.TryRead(new StringValues(header), out _));
    }

    [Fact]
    public void A_repeated_authorization_header_carries_no_token()
    {
        Assert.False(BearerToken.TryRead(new StringValues(["Bearer a", "Bearer a"]), out _));
        Assert.False(BearerToken.TryRead(StringValues.Empty, out _));
    }

    [Fact]
    public void Generated_keys_classify_as_api_keys_of_their_kind()
    {
        var dk = ApiKeys.Generate(ApiKeyKind.Dk);
        Assert.Equal(TokenKind.ApiKey, BearerToken.Classify(Sk));
        Assert.Equal(ApiKeyKind.Sk, ApiKeys.KindOf(Sk));
        Assert.Equal(ApiKeyKind.Dk, ApiKeys.KindOf(dk));
        Assert.Equal(46, Sk.Length);
        Assert.NotEqual(Sk, ApiKeys.Generate(ApiKeyKind.Sk));
    }

    [Fact]
    public void Near_miss_keys_are_not_api_keys()
    {
        Assert.Equal(TokenKind.Unknown, BearerToken.Classify("SK-" + Sk[3..]));
        Assert.Equal(TokenKind.Unknown, BearerToken.Classify("Sk-" + Sk[3..]));
        Assert.Equal(TokenKind.Unknown, BearerToken.Classify(Sk + "x"));
        Assert.Equal(TokenKind.Unknown, BearerToken.Classify(Sk[..^1]));
        Assert.Equal(TokenKind.Unknown, BearerToken.Classify("ak-" + Sk[3..]));
        Assert.Equal(TokenKind.Unknown, BearerToken.Classify(Sk[..^1] + "_"));
    }

    [Theory]
    [InlineData("a.b.c", true)]
    [InlineData("a.b", false)]
    [InlineData("a.b.c.d.e", false)]
    [InlineData("garbage", false)]
    public void Three_segments_classify_as_a_jwt(string token, bool isJwt)
    {
        Assert.Equal(isJwt ? TokenKind.Jwt : TokenKind.Unknown, BearerToken.Classify(token));
    }

    [Fact]
    public void Key_ids_are_the_first_twelve_characters()
    {
        Assert.True(ApiKeys.IsPrefix(ApiKeys.Prefix(Sk)));
        Assert.False(ApiKeys.IsPrefix(Sk));
        Assert.False(ApiKeys.IsPrefix("xx-AbCdEfGhI"));
    }
}
