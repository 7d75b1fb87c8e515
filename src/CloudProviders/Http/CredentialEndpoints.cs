using System.Runtime.CompilerServices;
using System.Text.Json;
using CloudProviders.Auth;
using CloudProviders.Domain;
using CloudProviders.Storage;

namespace CloudProviders.Http;

/// <summary>The provider credential API: <c>/api/v1/cloud-providers/comfy-cloud</c>.</summary>
internal static class CredentialEndpoints
{
    private const string NoCredential = "No ComfyUI Cloud credential is configured for this team.";

    /// <summary>What every credential route may answer besides 200, for the API description; PUT adds its body's.</summary>
    private static readonly int[] ErrorStatuses =
    [
        StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound,
        StatusCodes.Status405MethodNotAllowed, StatusCodes.Status500InternalServerError, StatusCodes.Status503ServiceUnavailable,
    ];

    /// <summary>Each status's reply, serialized once: the cache hands out one instance per change.</summary>
    private static readonly ConditionalWeakTable<CredentialStatus, JsonBytesReply> Replies = [];

    public static RouteGroupBuilder MapCredentialApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/cloud-providers");
        var path = "/" + Provider.ComfyCloud.Slug;
        // Every service here is a singleton: looked up once, when the routes are mapped.
        var services = routes.ServiceProvider;
        var callers = services.GetRequiredService<CallerResolution>();
        var database = services.GetRequiredService<Database>();
        var storage = services.GetRequiredService<StorageStartup>();
        var reads = services.GetRequiredService<ReadCache>();
        var credentials = services.GetRequiredService<CredentialStore>();

        var get = Authorized(callers, database, storage, Permission.Read, (access, _) => ValueTask.FromResult<IResult>(GetStatus(access, reads)));
        var set = Authorized(callers, database, storage, Permission.Manage, (access, request) => SetKey(access, request, credentials));
        var revoke = Authorized(callers, database, storage, Permission.Manage, (access, _) => ValueTask.FromResult<IResult>(Revoke(access, credentials)));
        // Handlers with a signature (not bare request delegates), so that the API description
        // (docs/openapi/v1.json) sees every route with the replies it can give. The PUT body is
        // described there, not declared here: declared, routing would answer 415 before 401.
        group.MapGet(path, (HttpContext context) => get(context))
            .WithName("GetComfyCloudCredential")
            .WithSummary("Get ComfyUI Cloud credential status")
            .Produces<StatusBody>(StatusCodes.Status200OK, JsonBytesReply.ContentType)
            .ProducesErrors(ErrorStatuses);
        group.MapPut(path, (HttpContext context) => set(context))
            .WithName("SetComfyCloudCredential")
            .WithSummary("Set or replace the ComfyUI Cloud API key")
            .Produces<StatusBody>(StatusCodes.Status200OK, JsonBytesReply.ContentType)
            .ProducesErrors([.. ErrorStatuses, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType]);
        group.MapDelete(path, (HttpContext context) => revoke(context))
            .WithName("RevokeComfyCloudCredential")
            .WithSummary("Revoke the ComfyUI Cloud API key")
            .Produces<StatusBody>(StatusCodes.Status200OK, JsonBytesReply.ContentType)
            .ProducesErrors(ErrorStatuses);
        return group;
    }

    private static IResult GetStatus(TeamAccess access, ReadCache reads) =>
        reads.FindStatus(access.TeamId, Provider.ComfyCloud, access.Generation) is { } status
            ? Replies.GetValue(status, static s => new JsonBytesReply(JsonSerializer.SerializeToUtf8Bytes(StatusBody.From(s), WireJsonContext.Default.StatusBody)))
            : ErrorReply.NotFound(NoCredential);

    /// <summary>Creates or replaces the team's key, after 415, 413 and 400 for the body.</summary>
    private static async ValueTask<IResult> SetKey(TeamAccess access, HttpRequest request, CredentialStore credentials)
    {
        var (body, invalid) = await SetCredentialRequest.ReadAsync(request);
        if (body is null)
        {
            return invalid!;
        }
        return credentials.Set(access.TeamId, Provider.ComfyCloud, body.ApiKey, body.CloudFallback, access.Actor) is { } status
            ? Status(status)
            : ErrorReply.NotFound("The team does not exist.");
    }

    /// <summary>Revokes the team's key: status revoked, fallback off, ciphertext destroyed.</summary>
    private static IResult Revoke(TeamAccess access, CredentialStore credentials) =>
        credentials.Revoke(access.TeamId, Provider.ComfyCloud, access.Actor) is { } status
            ? Status(status)
            : ErrorReply.NotFound(NoCredential);

    /// <summary>
    /// A route's caller resolution, done once here for every route: 401, 400 (team header) and 403,
    /// then 503 for a change on a read-only replica, then the handler with the resolved team.
    /// </summary>
    private static Func<HttpContext, ValueTask<IResult>> Authorized(
        CallerResolution callers, Database database, StorageStartup storage, Permission permission, Func<TeamAccess, HttpRequest, ValueTask<IResult>> handler)
    {
        return context =>
        {
            if (!storage.IsReady)
            {
                // Nobody can be identified before the database is: not even a 401 is known yet.
                return new(ErrorReply.StorageUnavailable());
            }
            // Most callers are known at once (a key, a JWT whose signing keys are loaded): then
            // the handler runs without a state machine of this layer's own.
            var resolution = callers.ResolveAsync(context, permission);
            return resolution.IsCompletedSuccessfully ? Serve(resolution.Result, context.Request) : ServeAfterAsync(resolution, context.Request);
        };

        ValueTask<IResult> Serve((TeamAccess? Access, ErrorReply? Error) resolution, HttpRequest request) =>
            resolution.Access is not { } access ? new(resolution.Error!)
                : permission == Permission.Manage && database.ReadOnly
                    ? new(new ErrorReply(StatusCodes.Status503ServiceUnavailable, "This replica is read-only: send PUT and DELETE to the primary."))
                    : handler(access, request);

        async ValueTask<IResult> ServeAfterAsync(ValueTask<(TeamAccess?, ErrorReply?)> resolution, HttpRequest request) =>
            await Serve(await resolution.ConfigureAwait(false), request).ConfigureAwait(false);
    }

    private static JsonReply<StatusBody> Status(CredentialStatus status) =>
        new(StatusBody.From(status), WireJsonContext.Default.StatusBody);
}
