using CloudProviders.Auth;
using CloudProviders.Storage;
using Microsoft.AspNetCore.Http.Features;

namespace CloudProviders.Http;

/// <summary>
/// The rules a credential route applies before its handler, each one line on the route group
/// (an endpoint filter), in the contract's order: storage ready (503), the caller (401, 400 for
/// the team header, 403), a read-only replica's refusal of writes (503), the limit on key tests
/// per team (429). The body's own checks (415, 413, 400) are the handler's. A rule that cuts
/// across routes is one more line here.
/// </summary>
internal static class RouteRules
{
    /// <summary>503 until the database is prepared: nobody can be identified before it is, not even a 401 is known yet.</summary>
    public static TBuilder RequireReadyStorage<TBuilder>(this TBuilder route) where TBuilder : IEndpointConventionBuilder =>
        route.AddEndpointFilterFactory((factory, next) =>
        {
            var storage = factory.ApplicationServices.GetRequiredService<StorageStartup>();
            return invocation => storage.IsReady ? next(invocation) : new(ErrorReply.StorageUnavailable());
        });

    /// <summary>
    /// Who is calling and whether they may: 401, then 400 for a user's team header, then 403. The
    /// handler reads the team access that it grants with <see cref="Access"/>.
    /// </summary>
    public static TBuilder RequireCaller<TBuilder>(this TBuilder route, Permission permission) where TBuilder : IEndpointConventionBuilder =>
        route.AddEndpointFilterFactory((factory, next) =>
        {
            var callers = factory.ApplicationServices.GetRequiredService<CallerResolution>();
            return invocation =>
            {
                // Most callers are known at once (a key, a JWT whose signing keys are loaded):
                // then the handler runs without a state machine of this rule's own.
                var resolution = callers.ResolveAsync(invocation.HttpContext, permission);
                return resolution.IsCompletedSuccessfully
                    ? Continue(resolution.Result, invocation, next)
                    : ContinueAfterAsync(resolution, invocation, next);
            };
        });

    /// <summary>503 for a change sent to a read-only replica: it belongs to the primary.</summary>
    public static TBuilder RefuseWritesOnReplica<TBuilder>(this TBuilder route) where TBuilder : IEndpointConventionBuilder =>
        route.AddEndpointFilterFactory((factory, next) =>
            factory.ApplicationServices.GetRequiredService<Database>().ReadOnly
                ? _ => new(new ErrorReply(StatusCodes.Status503ServiceUnavailable, "This replica is read-only: send PUT and DELETE to the primary."))
                : next);

    /// <summary>
    /// 429, with <c>Retry-After</c>, for a second test of a key by the same team within
    /// <see cref="TeamCooldown.KeyTestPeriod"/> on this instance; after the caller's checks, so
    /// that only a team's own managers spend its turn. A request refused before the provider was
    /// asked (its body, or no key to test) gives the turn back.
    /// </summary>
    /// <param name="applies">Whether this request tests a key (every request, unless told).</param>
    public static TBuilder LimitKeyTestsPerTeam<TBuilder>(this TBuilder route, Func<HttpRequest, bool>? applies = null) where TBuilder : IEndpointConventionBuilder =>
        route.AddEndpointFilterFactory((factory, next) =>
        {
            var cooldown = factory.ApplicationServices.GetRequiredService<TeamCooldown>();
            return invocation =>
            {
                var context = invocation.HttpContext;
                if (applies is not null && !applies(context.Request))
                {
                    return next(invocation);
                }
                var team = context.Access().TeamId;
                if (!cooldown.TryStart(team, out var turn, out var retryAfter))
                {
                    var seconds = (int)Math.Ceiling(retryAfter.TotalSeconds);
                    return new(new ErrorReply(StatusCodes.Status429TooManyRequests,
                        $"This team tested a key less than {(int)cooldown.Period.TotalSeconds} seconds ago: try again in {seconds} s.", seconds));
                }
                return TestedAsync(next(invocation), cooldown, team, turn);
            };
        });

    private static async ValueTask<object?> TestedAsync(ValueTask<object?> handled, TeamCooldown cooldown, Guid team, long turn)
    {
        var result = await handled.ConfigureAwait(false);
        if (result is ErrorReply { StatusCode: StatusCodes.Status400BadRequest or StatusCodes.Status404NotFound or StatusCodes.Status413PayloadTooLarge or StatusCodes.Status415UnsupportedMediaType })
        {
            cooldown.Release(team, turn);
        }
        return result;
    }

    /// <summary>The team access that <see cref="RequireCaller"/> granted this request.</summary>
    public static TeamAccess Access(this HttpContext context) => context.Features.GetRequiredFeature<TeamAccess>();

    private static ValueTask<object?> Continue((TeamAccess? Access, ErrorReply? Error) resolution, EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        if (resolution.Access is not { } access)
        {
            return new(resolution.Error);
        }
        invocation.HttpContext.Features.Set(access);
        return next(invocation);
    }

    private static async ValueTask<object?> ContinueAfterAsync(
        ValueTask<(TeamAccess?, ErrorReply?)> resolution, EndpointFilterInvocationContext invocation, EndpointFilterDelegate next) =>
        await Continue(await resolution.ConfigureAwait(false), invocation, next).ConfigureAwait(false);
}
