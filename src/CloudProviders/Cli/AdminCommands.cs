using System.CommandLine;
using System.Text.Json;
using CloudProviders.Domain;
using CloudProviders.Http;
using CloudProviders.Storage;
using Microsoft.Data.Sqlite;

namespace CloudProviders.Cli;

/// <summary>The operator's verbs: teams, members, API keys and provider credentials.</summary>
internal static class AdminCommands
{
    public const int MaxUserIdLength = 256;
    public const int MaxNameLength = 200;
    public const int MaxKeyLength = 512;

    /// <summary>API keys may carry an expiry of 1 to 365 days, or none.</summary>
    public const int MaxKeyLifetimeDays = 365;
    public const int MaxAuditLimit = 100_000;

    public static Command Team(Option<string?> db, Usage.Arguments split)
    {
        var team = new Command("team", "Manage teams.");
        var teamId = TeamIdArgument();
        var name = new Option<string?>("--name") { Description = "A display name." };
        var add = new Command("add", "Add a team.") { teamId, name };
        add.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var displayName = Text(parse.GetValue(name), "--name", MaxNameLength) ?? "";
            return admin =>
            {
            if (!admin.Teams.AddTeam(id, displayName))
            {
                throw new CliException($"Team {TeamId.Format(id)} already exists.");
            }
            admin.Output.WriteLine(TeamId.Format(id));
            };
        }));
        team.Subcommands.Add(add);
        return team;
    }

    public static Command Member(Option<string?> db, Usage.Arguments split)
    {
        var member = new Command("member", "Manage team members and their roles.");
        var teamId = TeamIdArgument();
        var userId = new Argument<string>("user-id") { Description = "The user's id: the JWT sub." };
        var role = OneOf("--role", $"{string.Join(", ", Roles.Names)}.", Roles.Names);

        var add = new Command("add", "Add a member to a team.") { teamId, userId, role };
        add.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var user = UserId(parse.GetValue(userId));
            var parsedRole = Roles.Parse(parse.GetValue(role)) ?? throw new CliException($"--role must be one of {string.Join(", ", Roles.Names)}.");
            return admin =>
            {
            switch (admin.Teams.AddMember(id, user, parsedRole))
            {
                case MemberChange.NoSuchTeam:
                    throw UnknownTeam(id);
                case MemberChange.AlreadyMember:
                    throw new CliException($"{user} is already a member of team {TeamId.Format(id)}.");
            }
            };
        }));

        var remove = new Command("remove", "Remove a member from a team.") { teamId, userId };
        remove.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var user = UserId(parse.GetValue(userId));
            return admin =>
            {
            switch (admin.Teams.RemoveMember(id, user))
            {
                case MemberChange.NoSuchTeam:
                    throw UnknownTeam(id);
                case MemberChange.NotMember:
                    throw new CliException($"{user} is not a member of team {TeamId.Format(id)}.");
            }
            };
        }));

        var list = new Command("list", "List a team's members: user, role, added (tab-separated).") { teamId };
        list.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            return admin =>
            {
                RequireTeam(admin, id);
                foreach (var m in admin.Teams.ListMembers(id))
                {
                    admin.WriteRow(m.UserId, m.Role.Name(), StatusBody.Rfc3339(m.AddedAt));
                }
            };
        }));

        member.Subcommands.Add(add);
        member.Subcommands.Add(remove);
        member.Subcommands.Add(list);
        return member;
    }

    public static Command Key(Option<string?> db, Usage.Arguments split)
    {
        var key = new Command("key", "Manage sk- (integration) and dk- (device) API keys.");
        var teamId = TeamIdArgument();
        var kind = OneOf("--kind", "sk (read) or dk (read and write).", ApiKeyKinds.Names);
        var name = new Option<string?>("--name") { Description = "A label to tell keys apart." };
        var expiresIn = WholeNumber("--expires-in", $"Days until the key expires, 1 to {MaxKeyLifetimeDays} (default: never).", 1, MaxKeyLifetimeDays);

        var create = new Command("create", "Create a key and print it, once, alone on stdout.") { teamId, kind, name, expiresIn };
        create.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var keyKind = ApiKeyKinds.Parse(parse.GetValue(kind)) ?? throw new CliException($"--kind must be one of {string.Join(", ", ApiKeyKinds.Names)}.");
            var label = Text(parse.GetValue(name), "--name", MaxNameLength);
            TimeSpan? lifetime = parse.GetValue(expiresIn) is { } days ? TimeSpan.FromDays(days) : null;
            return admin =>
            {
                var created = admin.Keys.Create(id, keyKind, label, lifetime) ?? throw UnknownTeam(id);
                admin.Output.WriteLine(created);
            };
        }));

        var list = new Command("list", "List a team's keys: prefix, kind, name, created, expires, state (tab-separated).") { teamId };
        list.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            return admin =>
            {
                RequireTeam(admin, id);
                var now = admin.Time.GetUtcNow();
                foreach (var k in admin.Keys.List(id))
                {
                    var expires = k.ExpiresAt is { } at ? StatusBody.Rfc3339(at) : "-";
                    admin.WriteRow(k.Prefix, k.Kind.Name(), k.Name ?? "-", StatusBody.Rfc3339(k.CreatedAt), expires, k.State(now));
                }
            };
        }));

        var prefix = new Argument<string>("key-id") { Description = "The key's id: its first 12 characters, as key list shows." };
        var revoke = new Command("revoke", "Revoke a key. It is refused from the next request on.") { prefix };
        revoke.SetAction(parse => Run(parse, split, db, () =>
        {
            var keyId = parse.GetValue(prefix) ?? "";
            if (!ApiKeys.IsPrefix(keyId))
            {
                throw new CliException("The key id is the key's first 12 characters, such as sk-AbCdEfGhI.");
            }
            return admin =>
            {
                if (!admin.Keys.Revoke(keyId))
                {
                    throw new CliException($"No active key has the id {keyId}.");
                }
            };
        }));

        key.Subcommands.Add(create);
        key.Subcommands.Add(list);
        key.Subcommands.Add(revoke);
        return key;
    }

    public static Command Credential(Option<string?> db, Usage.Arguments split)
    {
        var credential = new Command("credential", "Manage a team's provider credential.");
        var teamId = TeamIdArgument();
        var provider = OneOf("--provider", "The provider.", [.. Provider.All.Select(p => p.Slug)]);
        provider.Required = false;
        provider.DefaultValueFactory = _ => Provider.ComfyCloud.Slug;
        var fallback = new Option<bool>("--cloud-fallback") { Description = "Turn cloud fallback on (default: off)." };

        var set = new Command("set", "Set or replace the key, read from stdin (never an argument).") { teamId, provider, fallback };
        set.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var p = ParseProvider(parse.GetValue(provider));
            var key = KeyInput.Read(TeamId.Format(id));
            var cloudFallback = parse.GetValue(fallback);
            return admin =>
            {
                var status = admin.Credentials.Set(id, p, key, cloudFallback, Actor.Cli) ?? throw UnknownTeam(id);
                admin.WriteStatus(status);
            };
        }));

        var revoke = new Command("revoke", "Revoke the key: status revoked, fallback off, ciphertext destroyed.") { teamId, provider };
        revoke.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var p = ParseProvider(parse.GetValue(provider));
            return admin =>
            {
                RequireTeam(admin, id);
                var status = admin.Credentials.Revoke(id, p, Actor.Cli) ?? throw NoCredential(id);
                admin.WriteStatus(status);
            };
        }));

        var show = new Command("show", "Print the status body, exactly as the API returns it.") { teamId, provider };
        show.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var p = ParseProvider(parse.GetValue(provider));
            return admin =>
            {
                RequireTeam(admin, id);
                var status = admin.Credentials.Find(id, p) ?? throw NoCredential(id);
                admin.WriteStatus(status);
            };
        }));

        credential.Subcommands.Add(set);
        credential.Subcommands.Add(revoke);
        credential.Subcommands.Add(show);
        return credential;
    }

    public static Command Encryption(Option<string?> db, Usage.Arguments split)
    {
        var encryption = new Command("encryption", "Manage the master key that encrypts provider keys at rest.");
        var newKeyFile = new Option<string>("--new-key-file") { Description = "A file holding the new key: base64 of 32 bytes.", Required = true };
        var rotate = new Command("rotate", "Re-encrypt every stored key under a new master key, in one transaction.") { newKeyFile };
        rotate.SetAction(parse => Run(parse, split, db, () =>
        {
            var path = parse.GetValue(newKeyFile)!;
            var next = MasterKey.FromFile(path, "--new-key-file", warning => Console.Error.WriteLine($"warning: {Printable.Escape(warning)}"));
            return admin =>
            {
            int count;
            try
            {
                count = admin.Credentials.Reencrypt(new CredentialCipher(next));
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                throw new CliException("A stored key does not open under the current master key; nothing was changed.");
            }
            admin.Output.WriteLine(Printable.Escape($"Re-encrypted {count} key(s). Point Encryption:KeyFile at {Path.GetFullPath(path)} before the next write."));
            };
        }));
        encryption.Subcommands.Add(rotate);
        return encryption;
    }

    public static Command Audit(Option<string?> db, Usage.Arguments split)
    {
        var teamId = TeamIdArgument();
        var limit = WholeNumber("--limit", $"How many entries, newest first, 1 to {MaxAuditLimit} (default {AuditTrail.DefaultLimit}).", 1, MaxAuditLimit);
        var audit = new Command("audit", "Print a team's credential changes, newest first: when, provider, action, actor kind, actor, preview (tab-separated).") { teamId, limit };
        audit.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var count = parse.GetValue(limit) ?? AuditTrail.DefaultLimit;
            return admin =>
            {
                RequireTeam(admin, id);
                foreach (var e in new AuditTrail(admin.Database).List(id, count))
                {
                    admin.WriteRow(StatusBody.Rfc3339(e.At), e.ProviderId, e.Action, e.ActorKind, e.Actor, e.KeyPreview ?? "-");
                }
            };
        }));
        return audit;
    }

    /// <summary>
    /// Runs one admin verb: its own input is checked first, then the configuration (the same
    /// sources as <c>serve</c>), then the database is prepared as the server prepares it (the
    /// master key checked against it, migrations), and only then does the verb act. Any failure is
    /// one printable line on stderr, and nothing has changed.
    /// </summary>
    /// <param name="verb">Checks the verb's input and returns what it does with the database.</param>
    public static int Run(ParseResult parse, Usage.Arguments split, Option<string?> db, Func<Action<AdminContext>> verb)
    {
        string? databasePath = null;
        try
        {
            var action = verb();
            string[] arguments = [.. split.Configuration, .. parse.GetValue(db) is { } path ? [$"--Database:Path={path}"] : Array.Empty<string>()];
            var settings = Settings.From(ConfigurationSources.Build(Directory.GetCurrentDirectory(), arguments));
            databasePath = settings.DatabasePath;
            action(new AdminContext(settings, Console.Out, Console.Error));
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is CliException or ConfigurationException or SchemaException or MasterKeyChangedException)
        {
            Console.Error.WriteLine($"error: {Printable.Escape(e.Message)}");
            return ExitCodes.Failed;
        }
        catch (SqliteException e)
        {
            Console.Error.WriteLine($"error: {Printable.Escape(StorageErrors.Describe(e, databasePath ?? Settings.DefaultDatabasePath))}");
            return ExitCodes.Failed;
        }
    }

    private static Argument<string> TeamIdArgument() => new("team-id") { Description = "The team's UUID." };

    private static Guid ParseTeamId(string? text) =>
        TeamId.TryParse(text, out var id)
            ? id
            : throw new CliException($"\"{text}\" is not a team id: expected a UUID such as 0190d9b8-7c1e-7a2b-9c3d-4e5f60718293.");

    private static void RequireTeam(AdminContext admin, Guid id)
    {
        if (!admin.Teams.TeamExists(id))
        {
            throw UnknownTeam(id);
        }
    }

    /// <summary>An option that takes one of a few words, with a plain message (and a suggestion) for any other.</summary>
    private static Option<string> OneOf(string name, string description, params string[] values)
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
    private static Option<int?> WholeNumber(string name, string description, int min, int max) => new(name)
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

    private static Provider ParseProvider(string? slug) =>
        Provider.FromSlug(slug ?? "") ?? throw new CliException($"Unknown provider \"{slug}\".");

    private static string UserId(string? text) =>
        Text(text, "The user id", MaxUserIdLength) ?? throw new CliException("The user id must not be empty.");

    private static string? Text(string? text, string what, int maxLength)
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

    private static CliException UnknownTeam(Guid id) => new($"No team {TeamId.Format(id)}. Add it with: cloud-providers team add {TeamId.Format(id)}");

    private static CliException NoCredential(Guid id) => new($"Team {TeamId.Format(id)} has no credential for this provider.");
}

/// <summary>What one admin verb works with: the stores on a database prepared as the server prepares it.</summary>
internal sealed class AdminContext
{
    public AdminContext(Settings settings, TextWriter output, TextWriter error)
    {
        Output = output;
        Database = new Database(settings.DatabasePath, settings.ReadOnly);
        // A replica is never written: no migration, no key file, and any write fails in SQLite.
        var cipher = settings.ReadOnly
            ? null
            : StorageSetup.Prepare(
                settings,
                Database,
                notice => error.WriteLine($"note: {Printable.Escape(notice)}"),
                warning => error.WriteLine($"warning: {Printable.Escape(warning)}")).Cipher;
        Teams = new TeamStore(Database, Time);
        Keys = new ApiKeyStore(Database, Time);
        Credentials = new CredentialStore(Database, Time, new Lazy<CredentialCipher>(
            () => cipher ?? throw new CliException("This database is a read-only replica (Database:ReadOnly=true): send changes to the primary.")));
    }

    public TextWriter Output { get; }
    public TimeProvider Time { get; } = TimeProvider.System;
    public Database Database { get; }
    public TeamStore Teams { get; }
    public ApiKeyStore Keys { get; }
    public CredentialStore Credentials { get; }

    public void WriteStatus(CredentialStatus status) =>
        Output.WriteLine(JsonSerializer.Serialize(StatusBody.From(status), WireJsonContext.Default.StatusBody));

    /// <summary>One line of tab-separated output, every field escaped: no stored value can add, hide or rewrite a line.</summary>
    public void WriteRow(params string[] fields) => Output.WriteLine(string.Join('\t', fields.Select(Printable.Escape)));
}
