using System.Globalization;
using System.Text;

namespace CloudProviders.Domain;

/// <summary>The masked form of a provider key that the API may show: first 8, "...", last 4.</summary>
internal static class KeyPreview
{
    private const int Head = 8;
    private const int Tail = 4;
    private const int MinHidden = 8;

    /// <summary>The smallest key, in Unicode scalar values, that gets a preview.</summary>
    public const int MinLength = Head + Tail + MinHidden;

    /// <summary>
    /// The preview, or null where fewer than 8 characters would stay hidden. Lengths count
    /// Unicode scalar values, so a surrogate pair is never split.
    /// </summary>
    public static string? For(string key)
    {
        var length = ScalarCount(key);
        if (length < MinLength)
        {
            return null;
        }

        var head = new StringBuilder(Head * 2);
        var tail = new StringBuilder(Tail * 2);
        var index = 0;
        foreach (var rune in key.EnumerateRunes())
        {
            if (index < Head)
            {
                head.Append(rune.ToString());
            }
            else if (index >= length - Tail)
            {
                tail.Append(rune.ToString());
            }
            index++;
        }
        return string.Create(CultureInfo.InvariantCulture, $"{head}...{tail}");
    }

    /// <summary>The length in Unicode scalar values; lone surrogates count one each.</summary>
    public static int ScalarCount(string value)
    {
        var count = 0;
        foreach (var _ in value.EnumerateRunes())
        {
            count++;
        }
        return count;
    }
}
