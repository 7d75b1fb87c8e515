using System.CommandLine;
using System.Data.Common;
using CloudProviders.Domain;
using CloudProviders.Storage;

namespace CloudProviders.Cli;

/// <summary>What every admin verb shares: how it runs (input, configuration, storage, then the act), and how it reads its arguments.</summary>
internal static class AdminCommands
{
    public const int MaxUserIdLength = 256;
    public const int MaxNameLength = 200;

    /// <summary>API keys may carry an expiry of 1 to 365 days, or none.</summary>
    public const int MaxKeyLifetimeDays = 365;
    public const int MaxAuditLimit = 100_000;

    /// <summary>How far back <c>key list --idle-days</c> looks, at most: ten years.</summary>
    public const int MaxIdleDays = 3650;

    /// <summary>
    /// Runs one admin verb: its own input is checked first, then the configuration (the same
    /// sources as <c>serve</c>), then the database is prepared as the server prepares it (the
    /// master key checked against it, migrations), and only then does the verb act. Any failure is
    /// one printable line on stderr, and nothing has changed.
    /// </summary>
    /// <param name="verb">Checks the verb's input and returns what it does with the database.</param>
    /// <param name="prepare">False for a verb that must check more before the database is prepared (import, which must not record a master key the source does not have).</param>
    public static int Run(ParseResult parse, Usage.Arguments split, Option<string?> db, Func<Action<AdminContext>> verb, bool prepare = true)
    {
        string? databasePath = null;
        try
        {
            var action = verb();
            string[] arguments = [.. split.Configuration, .. parse.GetValue(db) is { } path ? [$"--Database:Path={path}"] : Array.Empty<string>()];
            var configuration = ConfigurationSources.Build(Directory.GetCurrentDirectory(), arguments);
            // Checked here once, so that a bad setting stops the verb before anything is opened.
            databasePath = Settings.From(configuration).DatabasePath;
            var admin = new AdminContext(configuration, Console.Out, Console.Error, prepare);
            action(admin);
            return admin.ExitCode;
        }
        catch (Exception e) when (e is CliException or ConfigurationException or SchemaException or MasterKeyChangedException)
        {
            Console.Error.WriteLine($"error: {Printable.Escape(e.Message)}");
            return ExitCodes.Failed;
        }
        catch (DbException e)
        {
            Console.Error.WriteLine($"error: {Printable.Escape(StorageErrors.Describe(e, databasePath ?? Settings.DefaultDatabasePath))}");
            return ExitCodes.Failed;
        }
    }

    internal static Argument<string> TeamIdArgument() => new("team-id") { Description = "The team's UUID." };

    internal static Guid ParseTeamId(string? text) =>
        TeamId.TryParse(text, out var id)
            ? id
            : throw new CliException($"\"{text}\" is not a team id: expected a UUID such as 0190d9b8-7c1e-7a2b-9c3d-4e5f60718293.");

    internal static void RequireTeam(AdminContext admin, Guid id)
    {
        if (!admin.Teams.TeamExists(id))
        {
            throw UnknownTeam(id);
        }
    }

    /// <summary>An option that takes one of a few words, with a plain message (and a suggestion) for any other.</summary>
    internal static Option<string> OneOf(string name, string description, params string[] values)
    {
        var option = new Option<string>(name) { Description = description, Required = true };
        option.Validators.Add(result =>
        {
            var value = result.Tokens.Count == 1 ? result.Tokens[0].Value : null;
            if (value is not null && !values.Contains(value, StringComparer.Ordinal))
            {
                var meant = Spelling.Closest(value, values);
                result.AddError($"{name} must be one of {string.Join(", ", values)}, not '{value}'.{(meant is null ? "" : $" Did you mean '{meant}'?")}");
            }
        });
        return option;
    }

    /// <summary>An option that takes a whole number in a range, with a plain message for anything else.</summary>
    internal static Option<int?> WholeNumber(string name, string description, int min, int max) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }
            result.AddError($"{name} must be a whole number from {min} to {max}, not '{text}'.");
            return null;
        },
    };

    internal static Provider ParseProvider(string? slug) =>
        Provider.FromSlug(slug ?? "") ?? throw new CliException($"Unknown provider \"{slug}\".");

    internal static string UserId(string? text) =>
        Text(text, "The user id", MaxUserIdLength) ?? throw new CliException("The user id must not be empty.");

    internal static string? Text(string? text, string what, int maxLength)
    {
        if (text is null)
        {
            return null;
        }
        if (text.Length == 0 || text.Length > maxLength || text.Any(char.IsControl) || text.Trim().Length != text.Length)
        {
            throw new CliException($"{what} must be 1 to {maxLength} characters, with no control characters or surrounding spaces.");
        }
        return text;
    }

    internal static CliException UnknownTeam(Guid id) => new($"No team {TeamId.Format(id)}. Add it with: cloud-providers team add {TeamId.Format(id)}");

    internal static CliException NoCredential(Guid id) => new($"Team {TeamId.Format(id)} has no credential for this provider.");
}
