using CloudProviders.Auth;
using CloudProviders.Credentials;
using CloudProviders.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudProviders.Http;

/// <summary>The provider credential API: <c>/api/v1/cloud-providers/comfy-cloud</c>.</summary>
internal static class CredentialEndpoints
{
    public static RouteGroupBuilder MapCredentialApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/cloud-providers");
        group.MapGet("/" + Provider.ComfyCloud.Slug, GetComfyCloudStatus);
        return group;
    }

    private static async Task<Results<JsonReply<StatusBody>, ErrorReply>> GetComfyCloudStatus(
        HttpRequest request, CallerResolver callers, CredentialStore credentials)
    {
        var (access, error) = await callers.ResolveAsync(request, Permission.Read);
        if (access is null)
        {
            return error!;
        }
        return credentials.Find(access.TeamId, Provider.ComfyCloud) is { } status
            ? new JsonReply<StatusBody>(StatusBody.From(status), WireJsonContext.Default.StatusBody)
            : ErrorReply.NotFound("No ComfyUI Cloud credential is configured for this team.");
    }
}
