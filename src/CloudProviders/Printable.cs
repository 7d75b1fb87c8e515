using System.Buffers;
using System.Globalization;
using System.Text;

namespace CloudProviders;

/// <summary>
/// Text from a request, a database row or an operator, made safe to print on a terminal, in a log
/// line or in a tab-separated field: nothing in it can end a line, split a field, move the cursor,
/// recolour the screen or reorder what is shown. Escapes follow JSON's spelling (<c>\n</c>,
/// <c>\t</c>, <c>\u001b</c>), and a backslash is doubled, so that no escape can be faked.
/// </summary>
internal static class Printable
{
    private static readonly SearchValues<char> NeedsEscape = SearchValues.Create(NeedingEscape());

    /// <summary>Printable ASCII but the backslash: what almost every text is made of, and a quicker search.</summary>
    private static readonly SearchValues<char> PlainAscii = SearchValues.Create(
        string.Concat(Enumerable.Range(' ', '~' - ' ' + 1).Select(c => (char)c).Where(c => c != '\\')));

    /// <summary>
    /// C0 and C1 controls (tab and line breaks among them), DEL, the Unicode line and paragraph
    /// separators, and the bidirectional embedding, override and isolate characters, which
    /// reorder a line as a terminal shows it.
    /// </summary>
    public static bool IsUnsafe(char c) =>
        char.IsControl(c) || c is '\u2028' or '\u2029' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');

    /// <summary>True when the text has no unsafe character.</summary>
    public static bool IsSafe(string text)
    {
        foreach (var c in text)
        {
            if (IsUnsafe(c))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The text with every unsafe character, and the backslash, escaped.</summary>
    public static string Escape(string text)
    {
        if (!text.AsSpan().ContainsAnyExcept(PlainAscii) || !text.AsSpan().ContainsAny(NeedsEscape))
        {
            return text;
        }
        var escaped = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            _ = c switch
            {
                '\\' => escaped.Append(@"\\"),
                '\n' => escaped.Append(@"\n"),
                '\r' => escaped.Append(@"\r"),
                '\t' => escaped.Append(@"\t"),
                _ when IsUnsafe(c) => escaped.Append(@"\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)),
                _ => escaped.Append(c),
            };
        }
        return escaped.ToString();
    }

    /// <summary>The text, escaped as <see cref="Escape"/> does, written as UTF-8.</summary>
    public static void WriteEscaped(IBufferWriter<byte> output, string text) =>
        Encoding.UTF8.GetBytes(Escape(text), output);

    private static string NeedingEscape()
    {
        var chars = new StringBuilder("\\");
        for (var c = '\0'; c <= '\u2069'; c++)
        {
            if (IsUnsafe(c))
            {
                chars.Append(c);
            }
        }
        return chars.ToString();
    }
}
