using CloudProviders.Domain;
using CloudProviders.Storage;

namespace CloudProviders.Auth;

/// <summary>What the caller wants to do with the team's credential.</summary>
internal enum Permission { Read, Manage }

/// <summary>The answer to "may this caller do this to this team's credential?".</summary>
internal enum AccessDecision { Allowed, NotAMember, ReadOnlyKey, RoleTooLow }

/// <summary>
/// Who may do what: every member may read; owners, admins and <c>dk-</c> keys may change the key;
/// <c>sk-</c> keys only read. A key acts on the team its row names.
/// </summary>
internal sealed class AccessPolicy(ReadCache reads)
{
    public AccessDecision Decide(Caller caller, Guid teamId, Permission permission)
    {
        if (caller.KeyTeam is not null)
        {
            return permission == Permission.Manage && caller.Actor.Kind != ActorKind.Dk ? AccessDecision.ReadOnlyKey : AccessDecision.Allowed;
        }
        // A team that does not exist and one the caller is not in look the same.
        return reads.FindRole(teamId, caller.Actor.Id, caller.Generation) switch
        {
            null => AccessDecision.NotAMember,
            { } role when permission == Permission.Manage && !role.MayManageCredentials() => AccessDecision.RoleTooLow,
            _ => AccessDecision.Allowed,
        };
    }
}
