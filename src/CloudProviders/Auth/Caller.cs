using CloudProviders.Domain;
using CloudProviders.Storage;

namespace CloudProviders.Auth;

/// <summary>
/// Who a bearer token proves the caller to be (<see cref="Authenticator"/>): the actor, and for an
/// API key the team its row names (a user names none).
/// </summary>
/// <param name="Generation">The storage generation the caller was identified at (see <see cref="IChangeWatch"/>).</param>
internal readonly record struct Caller(Actor Actor, Guid? KeyTeam, long Generation);

/// <summary>
/// A caller let in to one team's credential (<see cref="AccessPolicy"/>): the team it acts on,
/// the actor the audit trail names, and the storage generation the decision was made at.
/// </summary>
/// <param name="Generation">The request's later reads use it too, so one request looks for changes once.</param>
internal sealed record TeamAccess(Guid TeamId, Actor Actor, long Generation);
