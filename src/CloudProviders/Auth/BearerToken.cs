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
    public static bool TryRead(StringValues authorization, out string token)
    {
        token = "";
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
        token = header[Scheme.Length..];
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
        foreach (var c in value[..end])
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/'))
            {
                return false;
            }
        }
        return true;
    }
}
