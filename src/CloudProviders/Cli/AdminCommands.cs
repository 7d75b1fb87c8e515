using System.CommandLine;
using System.Text.Json;
using CloudProviders.Auth;
using CloudProviders.Credentials;
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

    public static Command Team(Option<string?> db)
    {
        var team = new Command("team", "Manage teams.");
        var teamId = TeamIdArgument();
        var name = new Option<string?>("--name") { Description = "A display name." };
        var add = new Command("add", "Add a team.") { teamId, name };
        add.SetAction(parse => Run(parse, db, admin =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var displayName = Text(parse.GetValue(name), "--name", MaxNameLength) ?? "";
            if (!admin.Teams.AddTeam(id, displayName))
            {
                throw new CliException($"Team {Ids.Format(id)} already exists.");
            }
            admin.Output.WriteLine(Ids.Format(id));
        }));
        team.Subcommands.Add(add);
        return team;
    }

    public static Command Member(Option<string?> db)
    {
        var member = new Command("member", "Manage team members and their roles.");
        var teamId = TeamIdArgument();
        var userId = new Argument<string>("user-id") { Description = "The user's id: the JWT sub." };
        var role = new Option<string>("--role") { Description = "owner, admin, member or viewer.", Required = true };
        role.AcceptOnlyFromAmong("owner", "admin", "member", "viewer");

        var add = new Command("add", "Add a member to a team.") { teamId, userId, role };
        add.SetAction(parse => Run(parse, db, admin =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var user = UserId(parse.GetValue(userId));
            var parsedRole = Roles.Parse(parse.GetValue(role)) ?? throw new CliException("--role must be owner, admin, member or viewer.");
            switch (admin.Teams.AddMember(id, user, parsedRole))
            {
                case MemberChange.NoSuchTeam:
                    throw UnknownTeam(id);
                case MemberChange.AlreadyMember:
                    throw new CliException($"{user} is already a member of team {Ids.Format(id)}.");
            }
        }));

        var remove = new Command("remove", "Remove a member from a team.") { teamId, userId };
        remove.SetAction(parse => Run(parse, db, admin =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var user = UserId(parse.GetValue(userId));
            switch (admin.Teams.RemoveMember(id, user))
            {
                case MemberChange.NoSuchTeam:
                    throw UnknownTeam(id);
                case MemberChange.NotMember:
                    throw new CliException($"{user} is not a member of team {Ids.Format(id)}.");
            }
        }));

        var list = new Command("list", "List a team's members: user, role, added (tab-separated).") { teamId };
        list.SetAction(parse => Run(parse, db, admin =>
        {
            var id = ExistingTeam(admin, parse.GetValue(teamId));
            foreach (var m in admin.Teams.ListMembers(id))
            {
                admin.Output.WriteLine($"{m.UserId}\t{m.Role.Name()}\t{StatusBody.Rfc3339(m.AddedAt)}");
            }
        }));

        member.Subcommands.Add(add);
        member.Subcommands.Add(remove);
        member.Subcommands.Add(list);
        return member;
    }

    public static Command Key(Option<string?> db)
    {
        var key = new Command("key", "Manage sk- (integration) and dk- (device) API keys.");
        var teamId = TeamIdArgument();
        var kind = new Option<string>("--kind") { Description = "sk (read) or dk (read and write).", Required = true };
        kind.AcceptOnlyFromAmong("sk", "dk");
        var name = new Option<string?>("--name") { Description = "A label to tell keys apart." };
        var expiresIn = new Option<int?>("--expires-in") { Description = "Days until the key expires (default: never)." };

        var create = new Command("create", "Create a key and print it, once, alone on stdout.") { teamId, kind, name, expiresIn };
        create.SetAction(parse => Run(parse, db, admin =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var keyKind = ApiKeys.ParseKind(parse.GetValue(kind)) ?? throw new CliException("--kind must be sk or dk.");
            var label = Text(parse.GetValue(name), "--name", MaxNameLength);
            TimeSpan? lifetime = parse.GetValue(expiresIn) switch
            {
                null => null,
                >= 1 and <= 36500 and var days => TimeSpan.FromDays(days),
                _ => throw new CliException("--expires-in must be a whole number of days from 1 to 36500."),
            };
            var created = admin.Keys.Create(id, keyKind, label, lifetime) ?? throw UnknownTeam(id);
            admin.Output.WriteLine(created);
        }));

        var list = new Command("list", "List a team's keys: prefix, kind, name, created, expires, state (tab-separated).") { teamId };
        list.SetAction(parse => Run(parse, db, admin =>
        {
            var id = ExistingTeam(admin, parse.GetValue(teamId));
            var now = admin.Time.GetUtcNow();
            foreach (var k in admin.Keys.List(id))
            {
                var expires = k.ExpiresAt is { } at ? StatusBody.Rfc3339(at) : "-";
                admin.Output.WriteLine($"{k.Prefix}\t{k.Kind.Name()}\t{k.Name ?? "-"}\t{StatusBody.Rfc3339(k.CreatedAt)}\t{expires}\t{k.State(now)}");
            }
        }));

        var prefix = new Argument<string>("key-id") { Description = "The key's id: its first 12 characters, as key list shows." };
        var revoke = new Command("revoke", "Revoke a key. It is refused from the next request on.") { prefix };
        revoke.SetAction(parse => Run(parse, db, admin =>
        {
            var keyId = parse.GetValue(prefix) ?? "";
            if (!ApiKeys.IsPrefix(keyId))
            {
                throw new CliException("The key id is the key's first 12 characters, such as sk-AbCdEfGhI.");
            }
            if (!admin.Keys.Revoke(keyId))
            {
                throw new CliException($"No active key has the id {keyId}.");
            }
        }));

        key.Subcommands.Add(create);
        key.Subcommands.Add(list);
        key.Subcommands.Add(revoke);
        return key;
    }

    public static Command Credential(Option<string?> db)
    {
        var credential = new Command("credential", "Manage a team's provider credential.");
        var teamId = TeamIdArgument();
        var provider = new Option<string>("--provider") { Description = "The provider.", DefaultValueFactory = _ => Provider.ComfyCloud.Slug };
        provider.AcceptOnlyFromAmong([.. Provider.All.Select(p => p.Slug)]);
        var fallback = new Option<bool>("--cloud-fallback") { Description = "Turn cloud fallback on (default: off)." };

        var set = new Command("set", "Set or replace the key, read from stdin (never an argument).") { teamId, provider, fallback };
        set.SetAction(parse => Run(parse, db, admin =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var p = ParseProvider(parse.GetValue(provider));
            var key = ReadKey(Console.In);
            var status = admin.Credentials.Set(id, p, key, parse.GetValue(fallback), Actor.Cli) ?? throw UnknownTeam(id);
            admin.WriteStatus(status);
        }));

        var revoke = new Command("revoke", "Revoke the key: status revoked, fallback off, ciphertext destroyed.") { teamId, provider };
        revoke.SetAction(parse => Run(parse, db, admin =>
        {
            var id = ExistingTeam(admin, parse.GetValue(teamId));
            var p = ParseProvider(parse.GetValue(provider));
            var status = admin.Credentials.Revoke(id, p, Actor.Cli) ?? throw NoCredential(id);
            admin.WriteStatus(status);
        }));

        var show = new Command("show", "Print the status body, exactly as the API returns it.") { teamId, provider };
        show.SetAction(parse => Run(parse, db, admin =>
        {
            var id = ExistingTeam(admin, parse.GetValue(teamId));
            var p = ParseProvider(parse.GetValue(provider));
            var status = admin.Credentials.Find(id, p) ?? throw NoCredential(id);
            admin.WriteStatus(status);
        }));

        credential.Subcommands.Add(set);
        credential.Subcommands.Add(revoke);
        credential.Subcommands.Add(show);
        return credential;
    }

    public static Command Encryption(Option<string?> db)
    {
        var encryption = new Command("encryption", "Manage the master key that encrypts provider keys at rest.");
        var newKeyFile = new Option<string>("--new-key-file") { Description = "A file holding the new key: base64 of 32 bytes.", Required = true };
        var rotate = new Command("rotate", "Re-encrypt every stored key under a new master key, in one transaction.") { newKeyFile };
        rotate.SetAction(parse => Run(parse, db, admin =>
        {
            var path = parse.GetValue(newKeyFile)!;
            byte[] next;
            try
            {
                next = MasterKey.FromFile(path);
            }
            catch (ConfigurationException e)
            {
                throw new CliException(e.Message);
            }
            int count;
            try
            {
                count = admin.Credentials.Reencrypt(new CredentialCipher(next));
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                throw new CliException("A stored key does not open under the current master key; nothing was changed.");
            }
            admin.Output.WriteLine($"Re-encrypted {count} key(s). Point Encryption:KeyFile at {Path.GetFullPath(path)} before the next write.");
        }));
        encryption.Subcommands.Add(rotate);
        return encryption;
    }

    public static Command Audit(Option<string?> db)
    {
        var teamId = TeamIdArgument();
        var limit = new Option<int>("--limit")
        {
            Description = $"How many entries, newest first (default {AuditTrail.DefaultLimit}).",
            DefaultValueFactory = _ => AuditTrail.DefaultLimit,
        };
        var audit = new Command("audit", "Print a team's credential changes, newest first: when, provider, action, actor kind, actor, preview (tab-separated).") { teamId, limit };
        audit.SetAction(parse => Run(parse, db, admin =>
        {
            var id = ExistingTeam(admin, parse.GetValue(teamId));
            var count = parse.GetValue(limit);
            if (count is < 1 or > 100_000)
            {
                throw new CliException("--limit must be a whole number from 1 to 100000.");
            }
            foreach (var e in new AuditTrail(admin.Database).List(id, count))
            {
                admin.Output.WriteLine($"{StatusBody.Rfc3339(e.At)}\t{e.ProviderId}\t{e.Action}\t{e.ActorKind}\t{e.Actor}\t{e.KeyPreview ?? "-"}");
            }
        }));
        return audit;
    }

    /// <summary>Runs one admin verb: migrate first, one line on stderr for any failure, and an exit code.</summary>
    public static int Run(ParseResult parse, Option<string?> db, Action<AdminContext> action)
    {
        try
        {
            var settings = Settings.From(CliConfiguration.Load(parse.GetValue(db)));
            var admin = new AdminContext(settings, Console.Out, Console.Error);
            if (!settings.ReadOnly)
            {
                Schema.Migrate(admin.Database);
            }
            action(admin);
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is CliException or ConfigurationException or SchemaException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Failed;
        }
        catch (SqliteException e)
        {
            Console.Error.WriteLine($"error: database: {e.Message.ReplaceLineEndings(" ")}");
            return ExitCodes.Failed;
        }
    }

    /// <summary>
    /// The key is all of stdin less one trailing line break: 1 to 512 Unicode characters, with no
    /// control characters (a pasted second line is a mistake, not part of a key).
    /// </summary>
    internal static string ReadKey(TextReader input)
    {
        var text = input.ReadToEnd();
        if (text.EndsWith("\r\n", StringComparison.Ordinal))
        {
            text = text[..^2];
        }
        else if (text.EndsWith('\n'))
        {
            text = text[..^1];
        }
        if (text.Length == 0)
        {
            throw new CliException("The key is read from stdin, and stdin was empty.");
        }
        if (KeyPreview.ScalarCount(text) > MaxKeyLength)
        {
            throw new CliException($"The key is longer than {MaxKeyLength} characters.");
        }
        if (text.Any(char.IsControl))
        {
            throw new CliException("The key contains a control character or a line break.");
        }
        return text;
    }

    private static Argument<string> TeamIdArgument() => new("team-id") { Description = "The team's UUID." };

    private static Guid ParseTeamId(string? text) =>
        Ids.TryParse(text, out var id)
            ? id
            : throw new CliException($"\"{text}\" is not a team id: expected a UUID such as 0190d9b8-7c1e-7a2b-9c3d-4e5f60718293.");

    private static Guid ExistingTeam(AdminContext admin, string? text)
    {
        var id = ParseTeamId(text);
        return admin.Teams.TeamExists(id) ? id : throw UnknownTeam(id);
    }

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

    private static CliException UnknownTeam(Guid id) => new($"No team {Ids.Format(id)}. Add it with: cloud-providers team add {Ids.Format(id)}");

    private static CliException NoCredential(Guid id) => new($"Team {Ids.Format(id)} has no credential for this provider.");
}

/// <summary>What one admin verb works with.</summary>
internal sealed class AdminContext
{
    public AdminContext(Settings settings, TextWriter output, TextWriter error)
    {
        Settings = settings;
        Output = output;
        Database = new Database(settings.DatabasePath, settings.ReadOnly);
        Teams = new TeamStore(Database, Time);
        Keys = new ApiKeyStore(Database, Time);
        Credentials = new CredentialStore(Database, Time, new Lazy<CredentialCipher>(
            () => new CredentialCipher(MasterKey.Load(settings, notice => error.WriteLine($"note: {notice}")))));
    }

    public Settings Settings { get; }
    public TextWriter Output { get; }
    public TimeProvider Time { get; } = TimeProvider.System;
    public Database Database { get; }
    public TeamStore Teams { get; }
    public ApiKeyStore Keys { get; }
    public CredentialStore Credentials { get; }

    public void WriteStatus(CredentialStatus status) =>
        Output.WriteLine(JsonSerializer.Serialize(StatusBody.From(status), WireJsonContext.Default.StatusBody));
}
