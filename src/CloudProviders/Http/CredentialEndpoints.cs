using CloudProviders.Auth;
using CloudProviders.Domain;
using CloudProviders.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudProviders.Http;

/// <summary>The provider credential API: <c>/api/v1/cloud-providers/comfy-cloud</c>.</summary>
internal static class CredentialEndpoints
{
    private const string NoCredential = "No ComfyUI Cloud credential is configured for this team.";

    public static RouteGroupBuilder MapCredentialApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/cloud-providers");
        var path = "/" + Provider.ComfyCloud.Slug;
        // Every service here is a singleton: take it from the root provider, because asking
        // RequestServices would create and dispose a DI scope on every request.
        var services = routes.ServiceProvider;
        group.MapGet(path, (HttpRequest request) =>
            GetStatus(request, services.GetRequiredService<CallerResolver>(), services.GetRequiredService<ReadCache>()));
        group.MapPut(path, (HttpRequest request) =>
            SetKey(request, services.GetRequiredService<CallerResolver>(), services.GetRequiredService<CredentialStore>(), services.GetRequiredService<Database>()));
        group.MapDelete(path, (HttpRequest request) =>
            Revoke(request, services.GetRequiredService<CallerResolver>(), services.GetRequiredService<CredentialStore>(), services.GetRequiredService<Database>()));
        return group;
    }

    private static async Task<Results<JsonBytesReply, ErrorReply>> GetStatus(
        HttpRequest request, CallerResolver callers, ReadCache reads)
    {
        var (access, error) = await callers.ResolveAsync(request, Permission.Read);
        if (access is null)
        {
            return error!;
        }
        return reads.FindStatusBody(access.TeamId, Provider.ComfyCloud, access.Generation) is { } body
            ? new JsonBytesReply(body)
            : ErrorReply.NotFound(NoCredential);
    }

    /// <summary>Creates or replaces the team's key. Checks run 401, 400 (team), 403, 503 (replica), 415, 413, 400 (body).</summary>
    private static async Task<Results<JsonReply<StatusBody>, ErrorReply>> SetKey(
        HttpRequest request, CallerResolver callers, CredentialStore credentials, Database database)
    {
        var (access, error) = await ResolveWriterAsync(request, callers, database);
        if (access is null)
        {
            return error!;
        }
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
    private static async Task<Results<JsonReply<StatusBody>, ErrorReply>> Revoke(
        HttpRequest request, CallerResolver callers, CredentialStore credentials, Database database)
    {
        var (access, error) = await ResolveWriterAsync(request, callers, database);
        if (access is null)
        {
            return error!;
        }
        return credentials.Revoke(access.TeamId, Provider.ComfyCloud, access.Actor) is { } status
            ? Status(status)
            : ErrorReply.NotFound(NoCredential);
    }

    /// <summary>A caller allowed to change the credential, on a database that takes writes: 401, 400, 403, then 503.</summary>
    private static async ValueTask<(TeamAccess? Access, ErrorReply? Error)> ResolveWriterAsync(
        HttpRequest request, CallerResolver callers, Database database)
    {
        var (access, error) = await callers.ResolveAsync(request, Permission.Manage);
        if (access is not null && database.ReadOnly)
        {
            return (null, new ErrorReply(StatusCodes.Status503ServiceUnavailable,
                "This replica is read-only: send PUT and DELETE to the primary."));
        }
        return (access, error);
    }

    private static JsonReply<StatusBody> Status(CredentialStatus status) =>
        new(StatusBody.From(status), WireJsonContext.Default.StatusBody);
}
