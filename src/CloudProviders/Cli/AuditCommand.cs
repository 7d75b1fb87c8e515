using System.CommandLine;
using CloudProviders.Domain;
using CloudProviders.Storage;
using static CloudProviders.Cli.AdminCommands;

namespace CloudProviders.Cli;

/// <summary>The <c>audit</c> verb. A team's credential changes and tests of its stored key, newest first.</summary>
internal static class AuditCommand
{
    public static Command Build(Option<string?> db, Usage.Arguments split)
    {
        var teamId = TeamIdArgument();
        var limit = WholeNumber("--limit", $"How many entries, newest first, 1 to {MaxAuditLimit} (default {AuditTrail.DefaultLimit}).", 1, MaxAuditLimit);
        var audit = new Command("audit", "Print a team's credential changes and key tests, newest first: when, provider, action, actor kind, actor, preview, outcome, upstream status (tab-separated).") { teamId, limit };
        audit.SetAction(parse => Run(parse, split, db, () =>
        {
            var id = ParseTeamId(parse.GetValue(teamId));
            var count = parse.GetValue(limit) ?? AuditTrail.DefaultLimit;
            return admin =>
            {
                RequireTeam(admin, id);
                foreach (var e in admin.Audit.List(id, count))
                {
                    admin.WriteRow(Rfc3339.Format(e.At), e.ProviderId, e.Action, e.ActorKind, e.Actor, e.KeyPreview ?? "-",
                        e.Outcome ?? "-", e.UpstreamStatus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-");
                }
            };
        }));
        return audit;
    }
}
