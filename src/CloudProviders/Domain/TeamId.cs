namespace CloudProviders.Domain;

/// <summary>A team's id: a UUID, written and stored in the canonical lower-case 8-4-4-4-12 form.</summary>
internal static class TeamId
{
    public static string Format(Guid id) => id.ToString("D");

    /// <summary>
    /// Accepts exactly the canonical 36-character form, hex digits in either case. Braces,
    /// hyphenless, or any other spelling that <see cref="Guid.TryParse(string?, out Guid)"/> would take are refused.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Guid id)
    {
        id = default;
        if (text.Length != 36)
        {
            return false;
        }
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var ok = i is 8 or 13 or 18 or 23 ? c == '-' : char.IsAsciiHexDigit(c);
            if (!ok)
            {
                return false;
            }
        }
        return Guid.TryParseExact(text, "D", out id);
    }
}
