using CloudProviders.Auth;
using CloudProviders.Domain;
using CloudProviders.Metrics;
using Microsoft.AspNetCore.Connections.Features;

namespace CloudProviders.Http;

/// <summary>
/// The HTTP side of deciding who is calling, in the contract's order: the bearer token (401), then
/// for a user the <c>X-Team-ID</c> header (400), then the policy's answer (403). Auth identifies and
/// decides; this reads the request and words the reply.
/// </summary>
internal sealed class CallerResolution(Authenticator authenticator, AccessPolicy policy)
{
    public const string TeamHeader = "X-Team-ID";

    /// <remarks>Completes at once unless the token is a JWT whose signing keys must be waited for.</remarks>
    public ValueTask<(TeamAccess? Access, ErrorReply? Error)> ResolveAsync(HttpContext context, Permission permission)
    {
        var authorization = context.Request.Headers.Authorization;
        if (!BearerToken.TryRead(authorization, out var token))
        {
            return new(Refuse(authorization.Count == 0 ? Refusal.Missing : Refusal.Malformed));
        }
        var authentication = authenticator.AuthenticateAsync(token, TokenHashes(context));
        return authentication.IsCompletedSuccessfully
            ? new(Resolve(context, permission, authentication.Result))
            : ResolveAfterAsync(context, permission, authentication);
    }

    /// <summary>
    /// The connection's memo of its token's hash, kept in the state the server carries from one
    /// request to the next on a connection; a server without such state gets one per request.
    /// </summary>
    private static TokenHashMemo TokenHashes(HttpContext context)
    {
        if (context.Features.Get<IPersistentStateFeature>()?.State is not { } state)
        {
            return new TokenHashMemo();
        }
        if (state.TryGetValue(TokenHashesKey, out var found))
        {
            return (TokenHashMemo)found!;
        }
        var created = new TokenHashMemo();
        state[TokenHashesKey] = created;
        return created;
    }

    private static readonly object TokenHashesKey = new();

    private async ValueTask<(TeamAccess?, ErrorReply?)> ResolveAfterAsync(
        HttpContext context, Permission permission, ValueTask<(Caller?, Refusal)> authentication) =>
        Resolve(context, permission, await authentication.ConfigureAwait(false));

    private (TeamAccess?, ErrorReply?) Resolve(HttpContext context, Permission permission, (Caller? Caller, Refusal Refusal) authentication)
    {
        if (authentication.Caller is not { } caller)
        {
            return Refuse(authentication.Refusal);
        }
        // Who the request turned out to be, for its log line and its metrics.
        context.Features.Set(caller.Actor);

        // A key's row names the team; X-Team-ID is ignored, whatever it holds.
        Guid teamId;
        if (caller.KeyTeam is { } keyTeam)
        {
            teamId = keyTeam;
        }
        else
        {
            var header = context.Request.Headers[TeamHeader];
            if (header.Count != 1 || !TeamId.TryParse(header[0], out teamId))
            {
                return (null, ErrorReply.BadRequest($"The {TeamHeader} header is required: exactly one team UUID."));
            }
        }

        return policy.Decide(caller, teamId, permission) switch
        {
            AccessDecision.Allowed => (new TeamAccess(teamId, caller.Actor, caller.Generation), null),
            AccessDecision.ReadOnlyKey => (null, ErrorReply.Forbidden("An integration key (sk-) may only read the credential status.")),
            AccessDecision.RoleTooLow => (null, ErrorReply.Forbidden("Only a team owner or admin may change the credential.")),
            _ => (null, ErrorReply.Forbidden("You are not a member of this team.")),
        };
    }

    private static (TeamAccess?, ErrorReply?) Refuse(Refusal refusal)
    {
        ServiceMetrics.AuthRefusals.Add(1, new KeyValuePair<string, object?>("reason", refusal.Name()));
        return (null, ErrorReply.Unauthorized());
    }
}
