using CloudProviders.Domain;

namespace CloudProviders.Tests.Unit;

/// <summary>A connection's memo gives every token its own hash, whatever the token before it was.</summary>
public sealed class TokenHashMemoTests
{
    [Fact]
    public void The_same_header_again_gives_its_hash_and_any_other_token_its_own()
    {
        var memo = new TokenHashMemo();
        var header = "Bearer " + ApiKeys.Generate(ApiKeyKind.Sk);
        var token = header.AsMemory(7);
        Assert.Equal(TokenHash.Of(token.Span), memo.Of(token));
        Assert.Equal(TokenHash.Of(token.Span), memo.Of(header.AsMemory(7)));

        // Another key; the same characters in another string; another range of the same string.
        var other = ApiKeys.Generate(ApiKeyKind.Sk).AsMemory();
        Assert.Equal(TokenHash.Of(other.Span), memo.Of(other));
        var copy = new string(header.AsSpan());
        Assert.Equal(TokenHash.Of(token.Span), memo.Of(copy.AsMemory(7)));
        Assert.Equal(TokenHash.Of(header.AsSpan(8)), memo.Of(header.AsMemory(8)));
        Assert.Equal(TokenHash.Of(header.AsSpan(7, 20)), memo.Of(header.AsMemory(7, 20)));
        Assert.Equal(TokenHash.Of(token.Span), memo.Of(token));

        // Characters not in a string at all.
        var array = header.ToCharArray().AsMemory(7);
        Assert.Equal(TokenHash.Of(token.Span), memo.Of(array));
        array.Span[0] = array.Span[0] == 's' ? 'd' : 's';
        Assert.Equal(TokenHash.Of(array.Span), memo.Of(array));
        Assert.NotEqual(TokenHash.Of(token.Span), memo.Of(array));
    }
}
