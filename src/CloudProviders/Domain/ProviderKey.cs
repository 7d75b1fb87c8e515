namespace CloudProviders.Domain;

/// <summary>The rules a provider key must meet, the same over HTTP and on the command line.</summary>
internal static class ProviderKey
{
    /// <summary>The longest key, in Unicode scalar values.</summary>
    public const int MaxLength = 512;

    /// <summary>What is wrong with the key, as a sentence that starts with <paramref name="what"/>; null when nothing is.</summary>
    public static string? Problem(string key, string what)
    {
        if (!IsValidUnicode(key))
        {
            return $"{what} must be valid Unicode text.";
        }
        if (KeyPreview.ScalarCount(key) is 0 or > MaxLength)
        {
            return $"{what} must be 1 to {MaxLength} characters long.";
        }
        // No real key holds one, and the preview is printed by the audit trail and the command line.
        return Printable.IsSafe(key) ? null : $"{what} must not contain control characters, line breaks or bidirectional formatting characters.";
    }

    private static bool IsValidUnicode(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }
        return true;
    }
}
