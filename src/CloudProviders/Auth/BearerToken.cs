using System.Buffers;
using CloudProviders.Domain;
using Microsoft.Extensions.Primitives;

namespace CloudProviders.Auth;

internal enum TokenKind { Unknown, ApiKey, Jwt }

/// <summary>Reads the bearer token from the Authorization header (RFC 6750) and tells what kind it is.</summary>
internal static class BearerToken
{
    private const string Scheme = "Bearer ";

    /// <summary>
    /// Exactly one Authorization header, <c>Bearer</c> in any case, one space, then a
    /// non-empty b64token. Anything else (tabs, extra spaces, a second header) is no token.
    /// </summary>
    /// <param name="token">The token, as a slice of the header's value: the request path copies
    /// no token it does not keep.</param>
    public static bool TryRead(StringValues authorization, out ReadOnlyMemory<char> token)
    {
        token = default;
        if (authorization.Count != 1 || authorization[0] is not { } header || header.Length <= Scheme.Length)
        {
            return false;
        }
        if (!header.AsSpan(0, Scheme.Length).Equals(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var value = header.AsSpan(Scheme.Length);
        if (!IsB64Token(value))
        {
            return false;
        }
        token = header.AsMemory(Scheme.Length);
        return true;
    }

    public static TokenKind Classify(ReadOnlySpan<char> token)
    {
        if (ApiKeys.KindOf(token) is not null)
        {
            return TokenKind.ApiKey;
        }
        return token.Count('.') == 2 ? TokenKind.Jwt : TokenKind.Unknown;
    }

    /// <summary>RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="</summary>
    private static bool IsB64Token(ReadOnlySpan<char> value)
    {
        var end = value.Length;
        while (end > 0 && value[end - 1] == '=')
        {
            end--;
        }
        if (end == 0)
        {
            return false;
        }
        return !value[..end].ContainsAnyExcept(B64TokenCharacters);
    }

    /// <summary>A JWT is a few hundred characters, checked on every request: a vectorized search.</summary>
    private static readonly SearchValues<char> B64TokenCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");
}
