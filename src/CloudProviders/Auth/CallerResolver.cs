using CloudProviders.Domain;
using CloudProviders.Http;
using CloudProviders.Storage;

namespace CloudProviders.Auth;

/// <summary>Who is asking, and for which team.</summary>
/// <param name="Generation">The storage generation the access was resolved at (see <see cref="ChangeWatch"/>): the request's later reads use it too, so one request checks for changes once.</param>
internal sealed record TeamAccess(Guid TeamId, Actor Actor, long Generation);

/// <summary>What the caller wants to do with the team's credential.</summary>
internal enum Permission { Read, Manage }

/// <summary>
/// Authenticates the caller and resolves the team, in the contract's order: 401 (no valid
/// credential), then 400 (X-Team-ID, JWT callers only), then 403 (not a member, or role too low).
/// </summary>
internal sealed class CallerResolver(ReadCache reads, JwtValidator jwt)
{
    public const string TeamHeader = "X-Team-ID";

    public async ValueTask<(TeamAccess? Access, ErrorReply? Error)> ResolveAsync(HttpRequest request, Permission permission)
    {
        if (!BearerToken.TryRead(request.Headers.Authorization, out var token))
        {
            return (null, ErrorReply.Unauthorized());
        }

        switch (BearerToken.Classify(token))
        {
            case TokenKind.ApiKey:
                // The key's row names the team; X-Team-ID is ignored, whatever it holds.
                var generation = reads.Generation();
                if (reads.AuthenticateKey(token, generation) is not { } owner)
                {
                    return (null, ErrorReply.Unauthorized());
                }
                var kind = owner.Kind == ApiKeyKind.Dk ? ActorKind.Dk : ActorKind.Sk;
                var keyActor = new Actor(kind, owner.Prefix);
                RequestLog.SetCaller(request.HttpContext, keyActor);
                if (permission == Permission.Manage && kind != ActorKind.Dk)
                {
                    return (null, ErrorReply.Forbidden("An integration key (sk-) may only read the credential status."));
                }
                return (new TeamAccess(owner.TeamId, keyActor, generation), null);

            case TokenKind.Jwt:
                if (await jwt.ValidateAsync(token).ConfigureAwait(false) is not { } subject)
                {
                    return (null, ErrorReply.Unauthorized());
                }
                var user = new Actor(ActorKind.Jwt, subject);
                RequestLog.SetCaller(request.HttpContext, user);
                var header = request.Headers[TeamHeader];
                if (header.Count != 1 || !TeamId.TryParse(header[0], out var teamId))
                {
                    return (null, ErrorReply.BadRequest($"The {TeamHeader} header is required: exactly one team UUID."));
                }
                var current = reads.Generation();
                var role = reads.FindRole(teamId, subject, current);
                if (role is null)
                {
                    // A team that does not exist and one the caller is not in look the same.
                    return (null, ErrorReply.Forbidden("You are not a member of this team."));
                }
                if (permission == Permission.Manage && !role.Value.MayManageCredentials())
                {
                    return (null, ErrorReply.Forbidden("Only a team owner or admin may change the credential."));
                }
                return (new TeamAccess(teamId, user, current), null);

            default:
                return (null, ErrorReply.Unauthorized());
        }
    }
}
