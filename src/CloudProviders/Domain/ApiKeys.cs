using System.Buffers;
using System.Security.Cryptography;

namespace CloudProviders.Domain;

/// <summary>
/// The format of <c>sk-</c> and <c>dk-</c> keys: the prefix, then 43 base62 characters drawn
/// uniformly (43 × log2 62 ≈ 256.03 bits). Only the SHA-256 hash is ever stored.
/// </summary>
internal static class ApiKeys
{
    public const int SecretLength = 43;
    public const int Length = 3 + SecretLength;

    /// <summary>A key's public id: its first 12 characters, kept for display and revocation.</summary>
    public const int PrefixLength = 12;

    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>Every bearer token that looks like a key is checked against it: a vectorized search.</summary>
    private static readonly SearchValues<char> AlphabetCharacters = SearchValues.Create(Alphabet);

    public static string Generate(ApiKeyKind kind) =>
        string.Concat(kind.Name(), "-", new string(RandomNumberGenerator.GetItems<char>(Alphabet, SecretLength)));

    /// <summary>The kind of a well-formed key; null for anything else, including wrong case.</summary>
    public static ApiKeyKind? KindOf(ReadOnlySpan<char> token)
    {
        if (token.Length != Length || token[2] != '-' || token[3..].ContainsAnyExcept(AlphabetCharacters))
        {
            return null;
        }
        return EnumNames<ApiKeyKind>.Parse(token[..2]);
    }

    public static string Prefix(string key) => key[..PrefixLength];

    /// <summary>Whether the text has the shape of a key's public id (for <c>key revoke</c>).</summary>
    public static bool IsPrefix(string text) =>
        text.Length == PrefixLength && KindOf(string.Concat(text, new string('0', Length - PrefixLength))) is not null;
}
