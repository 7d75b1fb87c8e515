using System.Buffers.Text;
using System.Text.Json;

namespace CloudProviders.Auth;

/// <summary>
/// A strict look at a JWS compact token before IdentityModel sees it, refusing what RFC 8725 and
/// RFC 7515 say to refuse but the library would accept: duplicate members, unknown <c>crit</c>,
/// key-bearing or key-locating headers, unencoded payloads, non-string <c>sub</c>, and an
/// <c>iat</c> in the future. It decides nothing about the signature.
/// </summary>
internal static class JwtPrecheck
{
    /// <summary>Larger tokens are refused unread.</summary>
    public const int MaxTokenLength = 8 * 1024;

    private const int MaxMembers = 64;

    // Headers that would tell the verifier where or what the key is, or change how it reads the token.
    private static readonly string[] ForbiddenHeaders = ["crit", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "b64", "zip", "enc"];

    /// <param name="allowedAlgorithms">The algorithms the configured keys can verify.</param>
    /// <param name="subject">The token's <c>sub</c>, when the token passes.</param>
    /// <param name="expires">The token's <c>exp</c> (unix seconds), when the token passes.</param>
    /// <param name="refusal">Why the token fails: its form and header (<see cref="Refusal.Malformed"/>), or its claims.</param>
    public static bool TryCheck(
        string token,
        IReadOnlySet<string> allowedAlgorithms,
        long nowUnixSeconds,
        int clockSkewSeconds,
        out string subject,
        out double expires,
        out Refusal refusal)
    {
        subject = "";
        expires = 0;
        refusal = Refusal.Malformed;
        if (token.Length > MaxTokenLength)
        {
            return false;
        }
        var first = token.IndexOf('.', StringComparison.Ordinal);
        var second = first < 0 ? -1 : token.IndexOf('.', first + 1);
        if (first <= 0 || second <= first + 1 || second == token.Length - 1 || token.IndexOf('.', second + 1) >= 0)
        {
            return false;
        }
        var span = token.AsSpan();
        if (!IsCanonicalBase64Url(span[(second + 1)..]))
        {
            return false;
        }
        var header = Decode(span[..first]);
        var payload = Decode(span[(first + 1)..second]);
        if (header is null || payload is null)
        {
            return false;
        }
        try
        {
            if (!CheckHeader(header, allowedAlgorithms))
            {
                return false;
            }
            refusal = Refusal.BadClaims;
            return CheckPayload(payload, nowUnixSeconds, clockSkewSeconds, out subject, out expires);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            subject = "";
            refusal = Refusal.Malformed;
            return false;
        }
    }

    private static bool CheckHeader(byte[] json, IReadOnlySet<string> allowedAlgorithms)
    {
        var algOk = false;
        var ok = EachMember(json, (string name, ref Utf8JsonReader value) =>
        {
            if (Array.IndexOf(ForbiddenHeaders, name) >= 0)
            {
                return false;
            }
            switch (name)
            {
                case "alg":
                    algOk = value.TokenType == JsonTokenType.String && allowedAlgorithms.Contains(value.GetString()!);
                    return value.TokenType == JsonTokenType.String;
                case "typ":
                    return value.TokenType == JsonTokenType.String && IsJwtType(value.GetString()!);
                case "kid":
                    return value.TokenType == JsonTokenType.String;
                default:
                    value.Skip();
                    return true;
            }
        });
        return ok && algOk;
    }

    private static bool CheckPayload(byte[] json, long now, int skew, out string subject, out double expires)
    {
        var sub = "";
        double exp = 0;
        var hasExp = false;
        var ok = EachMember(json, (string name, ref Utf8JsonReader value) =>
        {
            switch (name)
            {
                case "sub":
                    if (value.TokenType != JsonTokenType.String || value.GetString() is not { Length: > 0 and <= 256 } text)
                    {
                        return false;
                    }
                    sub = text;
                    return true;
                case "exp":
                    return hasExp = value.TokenType == JsonTokenType.Number && value.TryGetDouble(out exp);
                case "nbf":
                    return value.TokenType == JsonTokenType.Number;
                case "iat":
                    return value.TokenType == JsonTokenType.Number && value.TryGetDouble(out var iat) && iat <= now + skew;
                case "iss":
                    return value.TokenType == JsonTokenType.String;
                case "aud":
                    return IsAudience(ref value);
                default:
                    value.Skip();
                    return true;
            }
        });
        subject = sub;
        expires = exp;
        return ok && hasExp && subject.Length > 0;
    }

    /// <summary>Checks one member's value; it must consume the value.</summary>
    private delegate bool MemberCheck(string name, ref Utf8JsonReader value);

    /// <summary>
    /// One JSON object and nothing after it, member by member: every name at most once (and at
    /// most <see cref="MaxMembers"/> of them), each value handed to <paramref name="check"/>.
    /// </summary>
    private static bool EachMember(byte[] json, MemberCheck check)
    {
        var reader = new Utf8JsonReader(json);
        var names = new List<string>(16);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            if (!Unique(names, name))
            {
                return false;
            }
            reader.Read();
            if (!check(name, ref reader))
            {
                return false;
            }
        }
        return AtEnd(ref reader);
    }

    private static bool IsAudience(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return true;
        }
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsJwtType(string typ) =>
        typ.Equals("JWT", StringComparison.OrdinalIgnoreCase)
        || typ.Equals("at+jwt", StringComparison.OrdinalIgnoreCase)
        || typ.Equals("application/at+jwt", StringComparison.OrdinalIgnoreCase);

    private static bool Unique(List<string> seen, string name)
    {
        if (seen.Count >= MaxMembers || seen.Contains(name, StringComparer.Ordinal))
        {
            return false;
        }
        seen.Add(name);
        return true;
    }

    /// <summary>The object closed, and nothing follows it.</summary>
    private static bool AtEnd(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0 && !reader.Read();

    private static byte[]? Decode(ReadOnlySpan<char> segment)
    {
        if (!IsCanonicalBase64Url(segment))
        {
            return null;
        }
        var bytes = new byte[Base64Url.GetMaxDecodedLength(segment.Length)];
        return Base64Url.TryDecodeFromChars(segment, bytes, out var written) ? bytes[..written] : null;
    }

    /// <summary>
    /// Unpadded base64url whose unused trailing bits are zero, so that every token has exactly one
    /// spelling. Padding, <c>+</c>, <c>/</c> and whitespace are refused.
    /// </summary>
    internal static bool IsCanonicalBase64Url(ReadOnlySpan<char> segment)
    {
        if (segment.Length == 0 || segment.Length % 4 == 1)
        {
            return false;
        }
        foreach (var c in segment)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }
        var last = Sextet(segment[^1]);
        return (segment.Length % 4) switch
        {
            2 => (last & 0b1111) == 0,
            3 => (last & 0b11) == 0,
            _ => true,
        };
    }

    private static int Sextet(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '-' => 62,
        _ => 63,
    };
}
