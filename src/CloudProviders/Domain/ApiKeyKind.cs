namespace CloudProviders.Domain;

/// <summary>The two API key kinds: integration keys (<c>sk-</c>) read, device keys (<c>dk-</c>) read and write.</summary>
/// <remarks>In the order of <see cref="ApiKeyKinds.Names"/>.</remarks>
internal enum ApiKeyKind { Sk, Dk }

internal static class ApiKeyKinds
{
    /// <summary>Every kind by its name: the key's prefix, and the word the command line and the database use.</summary>
    public static readonly string[] Names = ["sk", "dk"];

    public static string Name(this ApiKeyKind kind) => Names[(int)kind];

    public static ApiKeyKind? Parse(string? name) => name is null ? null : Parse(name.AsSpan());

    /// <summary>Without allocating: the request path reads the kind off every key it sees.</summary>
    public static ApiKeyKind? Parse(ReadOnlySpan<char> name)
    {
        for (var i = 0; i < Names.Length; i++)
        {
            if (name.SequenceEqual(Names[i]))
            {
                return (ApiKeyKind)i;
            }
        }
        return null;
    }
}
