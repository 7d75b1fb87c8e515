using System.CommandLine;
using System.CommandLine.Parsing;

namespace CloudProviders.Cli;

/// <summary>
/// The command line's strictness: every token is a verb, an option, an argument, a configuration
/// argument (<c>--Section:Key=value</c>, read as the service's configuration) or, for the verbs
/// that start the host, one of the host's own arguments. Anything else is an error that names it
/// and, where a real name is close, says which one was meant.
/// </summary>
internal static class Usage
{
    /// <summary>WebApplicationFactory and the generic host pass these; only the verbs that start the host take them.</summary>
    private static readonly string[] HostArguments = ["--environment", "--contentRoot", "--applicationName"];

    /// <summary>The command line taken apart: configuration arguments, the host's arguments, and the rest for the verbs.</summary>
    public sealed record Arguments(string[] Configuration, string[] Host, string[] Rest);

    /// <summary>Takes out the configuration and host arguments, wherever they stand, so that the verbs are parsed strictly.</summary>
    public static Arguments Split(string[] args)
    {
        List<string> configuration = [], host = [], rest = [];
        for (var i = 0; i < args.Length; i++)
        {
            var token = args[i];
            if (token == "--")
            {
                rest.AddRange(args[i..]);
                break;
            }
            if (IsConfigurationArgument(token))
            {
                configuration.Add(token);
            }
            else if (IsSectionMarker(token))
            {
                host.Add(token);
            }
            else if (HostArgument(token) is { } name)
            {
                host.Add(token);
                // "--environment=X" carries its value; "--environment X" takes the next token.
                if (token.Length == name.Length && i + 1 < args.Length)
                {
                    host.Add(args[++i]);
                }
            }
            else
            {
                rest.Add(token);
            }
        }
        return new Arguments([.. configuration], [.. host], [.. rest]);
    }

    /// <summary>What is wrong with the command line, in one printable line; null when nothing is.</summary>
    /// <param name="startsHost">Whether the parsed verb starts the web host (serve, demo, or no verb).</param>
    public static string? Problem(ParseResult parse, Arguments split, bool startsHost)
    {
        if (!startsHost && split.Host.Length > 0)
        {
            return Unknown(split.Host[0], parse.CommandResult);
        }
        if (split.Host.Length > 0 && HostArgument(split.Host[^1]) is { } last && split.Host[^1].Length == last.Length)
        {
            return $"{last} needs a value.";
        }
        if (parse.UnmatchedTokens.Count > 0)
        {
            return Unknown(parse.UnmatchedTokens[0], parse.CommandResult);
        }
        if (parse.Errors.Count > 0)
        {
            return string.Join(' ', parse.Errors[0].Message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        }
        return null;
    }

    /// <summary><c>--Section:Key=value</c>: a key of two or more non-empty parts joined by colons, an equals sign, any value.</summary>
    public static bool IsConfigurationArgument(string token)
    {
        var equals = token.IndexOf('=', StringComparison.Ordinal);
        if (!token.StartsWith("--", StringComparison.Ordinal) || equals < 2)
        {
            return false;
        }
        var parts = token[2..equals].Split(':');
        return parts.Length >= 2
            && parts.All(part => part.Length > 0 && part.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            && char.IsAsciiLetter(parts[0][0]);
    }

    /// <summary>
    /// <c>--Section=</c>: WebApplicationFactory hands its settings over as arguments, each section
    /// as an empty entry of its own.
    /// </summary>
    private static bool IsSectionMarker(string token) =>
        token.Length > 3 && token.StartsWith("--", StringComparison.Ordinal) && token.EndsWith('=')
        && token[2..^1].All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    private static string? HostArgument(string token) => HostArguments.FirstOrDefault(name =>
        token.StartsWith(name, StringComparison.OrdinalIgnoreCase)
        && (token.Length == name.Length || token[name.Length] == '='));

    private static string Unknown(string token, CommandResult at)
    {
        var command = at.Command;
        var where = CommandPath(at);
        if (token.StartsWith('-'))
        {
            var name = token.Split('=', 2)[0];
                        return $"unknown option '{name}' for {where}.{Suggest(name, OptionNames(at))} Run {where} --help for its options.";
        }
        if (command.Subcommands.Count > 0)
        {
            return $"unknown command '{token}' for {where}.{Suggest(token, command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))} Run {where} --help for the list.";
        }
        var expected = command.Arguments.Count == 0 ? "no arguments" : string.Join(' ', command.Arguments.Select(a => $"<{a.Name}>"));
        return $"unexpected argument '{token}' for {where}, which takes {expected}.";
    }

    private static string Suggest(string typed, IEnumerable<string> names) =>
        Spelling.Closest(typed, names) is { } name ? $" Did you mean '{name}'?" : "";

    private static IEnumerable<string> OptionNames(CommandResult at)
    {
        foreach (var option in at.Command.Options)
        {
            yield return option.Name;
        }
        // Recursive options (--db) are offered by every verb below the one that declares them.
        for (var parent = at.Parent as CommandResult; parent is not null; parent = parent.Parent as CommandResult)
        {
            foreach (var option in parent.Command.Options.Where(o => o.Recursive))
            {
                yield return option.Name;
            }
        }
    }

    private static string CommandPath(CommandResult at)
    {
        var names = new List<string>();
        for (CommandResult? result = at; result is not null; result = result.Parent as CommandResult)
        {
            names.Insert(0, result.Command is RootCommand ? "cloud-providers" : result.Command.Name);
        }
        return string.Join(' ', names);
    }
}
