using System.Text;
using CloudProviders.Domain;
using CloudProviders.Storage;

namespace CloudProviders.Cli;

/// <summary>
/// The provider key for <c>credential set</c>: piped on stdin, or, at a terminal, typed or pasted
/// at a prompt that does not echo it. Never an argument, so it stays out of shell history and
/// <c>ps</c>. Reading stops a little past the longest key, so a huge input costs nothing.
/// </summary>
internal static class KeyInput
{
    /// <summary>The longest key is 512 characters of up to 4 UTF-8 bytes each, with a line break.</summary>
    private const int MaxBytes = ProviderKey.MaxLength * 4 + 2;

    public static string Read(string team) => Console.IsInputRedirected
        ? FromStream(Console.OpenStandardInput())
        : FromTerminal(team);

    /// <summary>All of the input less one trailing line break, checked by <see cref="Check"/>.</summary>
    internal static string FromStream(Stream input)
    {
        var bytes = SecretFile.ReadAtMost(input, MaxBytes)
            ?? throw new CliException($"The key on stdin is longer than {ProviderKey.MaxLength} characters.");
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new CliException("The key on stdin is not valid UTF-8 text.");
        }
        if (text.EndsWith("\r\n", StringComparison.Ordinal))
        {
            text = text[..^2];
        }
        else if (text.EndsWith('\n'))
        {
            text = text[..^1];
        }
        return Check(text);
    }

    /// <summary>1 to 512 Unicode characters, none of them a control character (a pasted second line is a mistake, not part of a key).</summary>
    internal static string Check(string text)
    {
        if (text.Length == 0)
        {
            throw new CliException("The key is read from stdin, and stdin was empty.");
        }
        return ProviderKey.Problem(text, "The key") is { } problem ? throw new CliException(problem) : text;
    }

    private static string FromTerminal(string team)
    {
        Console.Error.Write($"Paste the ComfyUI Cloud key for team {team} and press Enter (it is not shown): ");
        var key = new StringBuilder();
        while (true)
        {
            var typed = Console.ReadKey(intercept: true);
            if (typed.Key == ConsoleKey.Enter || (typed.Key == ConsoleKey.D && typed.Modifiers.HasFlag(ConsoleModifiers.Control)))
            {
                break;
            }
            if (typed.Key == ConsoleKey.Backspace)
            {
                if (key.Length > 0)
                {
                    key.Length--;
                }
            }
            else if (typed.KeyChar != '\0' && key.Length <= ProviderKey.MaxLength * 2)
            {
                key.Append(typed.KeyChar);
            }
        }
        Console.Error.WriteLine();
        return Check(key.ToString());
    }
}
