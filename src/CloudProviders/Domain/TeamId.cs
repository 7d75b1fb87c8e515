using System.Buffers;

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
        if (text.Length != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-')
        {
            return false;
        }
        // The 32 digits without their hyphens, decoded at once: read on every request a user makes.
        Span<char> digits = stackalloc char[32];
        text[..8].CopyTo(digits);
        text[9..13].CopyTo(digits[8..]);
        text[14..18].CopyTo(digits[12..]);
        text[19..23].CopyTo(digits[16..]);
        text[24..].CopyTo(digits[20..]);
        Span<byte> bytes = stackalloc byte[16];
        if (Convert.FromHexString(digits, bytes, out _, out var written) != OperationStatus.Done || written != bytes.Length)
        {
            return false;
        }
        id = new Guid(bytes, bigEndian: true);
        return true;
    }
}
