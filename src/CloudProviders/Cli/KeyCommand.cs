using System.CommandLine;
using CloudProviders.Domain;
using static CloudProviders.Cli.AdminCommands;

namespace CloudProviders.Cli;

/// <summary>The <c>key</c> verb. sk- and dk- API keys: create, list, revoke.</summary>
internal static class KeyCommand
{
    public static Command Build(Option<string?> db, Usage.Arguments split)
    {
        var key = new Command("key", "Manage sk- (integration) and dk- (device) API keys.");
        var teamId = TeamIdArgument();
        var kind = OneOf("--kind", "sk (read) or dk (read and write).", EnumNames<ApiKeyKind>.All);
        var name = new Option<string?>("--name") { Description = "A label to tell keys apart." };
        var expiresIn = WholeNumber("--expires-in", $"Days until the key expires, 1 to {MaxKeyLifetimeDays} (default: never).", 1, MaxKeyLifetimeDays);

        var create = new Command("create", "Create a key and print it, once, alone on stdout.") { teamId, kind, name, expiresIn };
        create.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var keyKind = EnumNames<ApiKeyKind>.Parse(parse.GetValue(kind)) ?? throw new CliException($"--kind must be one of {string.Join(", ", EnumNames<ApiKeyKind>.All)}.");
            var label = Text(parse.GetValue(name), "--name", MaxNameLength);
            TimeSpan? lifetime = parse.GetValue(expiresIn) is { } days ? TimeSpan.FromDays(days) : null;
            return admin =>
            {
                var created = admin.Keys.Create(id, keyKind, label, lifetime) ?? throw UnknownTeam(id);
                admin.Output.WriteLine(created);
            };
        }));

        var idleDays = WholeNumber("--idle-days", $"Only the keys not used in this many days, 1 to {MaxIdleDays} (a key never used counts from its creation).", 1, MaxIdleDays);
        var list = new Command("list", "List a team's keys: prefix, kind, name, created, expires, state, last used (tab-separated).") { teamId, idleDays };
        list.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            TimeSpan? idle = parse.GetValue(idleDays) is { } days ? TimeSpan.FromDays(days) : null;
            return admin =>
            {
                RequireTeam(admin, id);
                var now = admin.Time.GetUtcNow();
                foreach (var k in admin.Keys.List(id).Where(k => idle is not { } period || k.IdleFor(period, now)))
                {
                    var expires = k.ExpiresAt is { } at ? Rfc3339.Format(at) : "-";
                    var lastUsed = k.LastUsedAt is { } used ? Rfc3339.Format(used) : "never";
                    admin.WriteRow(k.Prefix, k.Kind.Name(), k.Name ?? "-", Rfc3339.Format(k.CreatedAt), expires, k.State(now).Name(), lastUsed);
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
}
