using System.Runtime.CompilerServices;
using System.Text.Json;
using CloudProviders.Auth;
using CloudProviders.Domain;
using CloudProviders.Storage;
using CloudProviders.Upstream;

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

    private static readonly ConditionalWeakTable<CredentialStatus, JsonBytesReply> Replies = [];

    public static RouteGroupBuilder MapCredentialApi(this IEndpointRouteBuilder routes)
    {
        var path = "/" + Provider.ComfyCloud.Slug;
        // Every service here is a singleton: looked up once, when the routes are mapped.
        var services = routes.ServiceProvider;
        var reads = services.GetRequiredService<ReadCache>();
        var credentials = services.GetRequiredService<CredentialStore>();
        var tests = services.GetRequiredService<KeyTests>();

        // The checks every route makes before its handler, in the contract's order.
        var api = routes.MapGroup("/api/v1/cloud-providers")
            .RequireReadyStorage();
        var readers = api.MapGroup("")
            .RequireCaller(Permission.Read);
        var managers = api.MapGroup("")
            .RequireCaller(Permission.Manage)
            .RefuseWritesOnReplica();

        // Handlers with a signature (not bare request delegates), so that the API description
        // (docs/openapi/v1.json) sees every route with the replies it can give. The PUT body is
        // described there, not declared here: declared, routing would answer 415 before 401.
        readers.MapGet(path, (HttpContext context) => GetStatus(context.Access(), reads))
            .WithName("GetComfyCloudCredential")
            .WithSummary("Get ComfyUI Cloud credential status")
            .Produces<StatusBody>(StatusCodes.Status200OK, JsonBytesReply.ContentType)
            .ProducesErrors(ErrorStatuses);
        managers.MapPut(path, (HttpContext context) => SetKey(context.Access(), context.Request, credentials, tests))
            .LimitKeyTestsPerTeam(applies: request => Verify(request) == true)
            .WithName("SetComfyCloudCredential")
            .WithSummary("Set or replace the ComfyUI Cloud API key")
            .Produces<StatusBody>(StatusCodes.Status200OK, JsonBytesReply.ContentType)
            .ProducesErrors([.. ErrorStatuses, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType,
                StatusCodes.Status422UnprocessableEntity, StatusCodes.Status429TooManyRequests]);
        managers.MapPost(path + "/test", (HttpContext context) => TestKey(context.Access(), context.Request, tests))
            .LimitKeyTestsPerTeam()
            .WithName("TestComfyCloudCredential")
            .WithSummary("Test the stored ComfyUI Cloud API key, or a candidate key, against ComfyUI Cloud")
            .Produces<KeyTestBody>(StatusCodes.Status200OK, JsonBytesReply.ContentType)
            .ProducesErrors([.. ErrorStatuses, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status429TooManyRequests]);
        managers.MapDelete(path, (HttpContext context) => Revoke(context.Access(), credentials))
            .WithName("RevokeComfyCloudCredential")
            .WithSummary("Revoke the ComfyUI Cloud API key")
            .Produces<StatusBody>(StatusCodes.Status200OK, JsonBytesReply.ContentType)
            .ProducesErrors(ErrorStatuses);
        return api;
    }

    private static IResult GetStatus(TeamAccess access, ReadCache reads) =>
        reads.FindStatus(access.TeamId, Provider.ComfyCloud, access.Generation) is { } status
            ? Reply(status)
            : ErrorReply.NotFound(NoCredential);

    /// <summary>
    /// Creates or replaces the team's key, after 415, 413 and 400 for the body. With
    /// <c>?verify=true</c> the key is tested first: a key the provider rejects is 422, an
    /// unreachable provider 503, and either way nothing changes.
    /// </summary>
    private static async ValueTask<IResult> SetKey(TeamAccess access, HttpRequest request, CredentialStore credentials, KeyTests tests)
    {
        var (body, invalid) = await SetCredentialRequest.ReadAsync(request);
        if (body is null)
        {
            return invalid!;
        }
        if (Verify(request) is not { } verify)
        {
            return ErrorReply.BadRequest("The verify parameter must be true or false.");
        }
        KeyCheck? check = null;
        if (verify)
        {
            check = await tests.TestCandidateAsync(body.ApiKey, request.HttpContext.RequestAborted);
            switch (check.Result)
            {
                case KeyCheckResult.Rejected:
                    return new ErrorReply(StatusCodes.Status422UnprocessableEntity,
                        $"ComfyUI Cloud rejected this key (HTTP {check.UpstreamStatus}); nothing was changed.");
                case KeyCheckResult.Unreachable:
                    return new ErrorReply(StatusCodes.Status503ServiceUnavailable,
                        "ComfyUI Cloud could not be reached to verify the key; nothing was changed. Try again shortly.",
                        (int)TeamCooldown.KeyTestPeriod.TotalSeconds);
            }
        }
        return credentials.Set(access.TeamId, Provider.ComfyCloud, body.ApiKey, body.CloudFallback, access.Actor, check) is { } status
            ? Reply(status)
            : ErrorReply.NotFound("The team does not exist.");
    }

    /// <summary>
    /// Tests a key against ComfyUI Cloud: with no body the stored key (404 when there is none to
    /// test), with <c>{"api_key": "..."}</c> that key, which is not stored. A key the provider
    /// rejects is still a 200: the test worked.
    /// </summary>
    private static async ValueTask<IResult> TestKey(TeamAccess access, HttpRequest request, KeyTests tests)
    {
        KeyCheck check;
        if (HasBody(request))
        {
            var (body, invalid) = await SetCredentialRequest.ReadAsync(request);
            if (body is null)
            {
                return invalid!;
            }
            check = await tests.TestCandidateAsync(body.ApiKey, request.HttpContext.RequestAborted);
        }
        else
        {
            var (stored, missing) = await tests.TestStoredAsync(access.TeamId, Provider.ComfyCloud, access.Actor, request.HttpContext.RequestAborted);
            if (stored is null)
            {
                return ErrorReply.NotFound(KeyTests.Describe(missing));
            }
            check = stored;
        }
        return new JsonReply<KeyTestBody>(KeyTestBody.From(Provider.ComfyCloud, check), WireJsonContext.Default.KeyTestBody);
    }

    /// <summary><c>?verify=true</c> or <c>false</c> (absent: false); null for anything else.</summary>
    private static bool? Verify(HttpRequest request) => request.Query["verify"] switch
    {
        { Count: 0 } => false,
        { Count: 1 } value when bool.TryParse(value[0], out var verify) => verify,
        _ => null,
    };

    /// <summary>A request carries a body when it says so: a length above zero, or chunked framing.</summary>
    private static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);

    /// <summary>Revokes the team's key: status revoked, fallback off, ciphertext destroyed.</summary>
    private static IResult Revoke(TeamAccess access, CredentialStore credentials) =>
        credentials.Revoke(access.TeamId, Provider.ComfyCloud, access.Actor) is { } status
            ? Reply(status)
            : ErrorReply.NotFound(NoCredential);

    /// <summary>A status's reply: serialized once per status, as the cache hands out one instance per change.</summary>
    private static JsonBytesReply Reply(CredentialStatus status) =>
        Replies.GetValue(status, static s => new JsonBytesReply(JsonSerializer.SerializeToUtf8Bytes(StatusBody.From(s), WireJsonContext.Default.StatusBody)));
}
