using System.Text.Json;
using CloudProviders.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudProviders.Http;

/// <summary>Liveness (never touches storage) and readiness (the database opens and its schema is current).</summary>
internal static class HealthEndpoints
{
    // Serialized once: liveness is probed often, and is the framework's own cost and no more.
    private static readonly JsonBytesReply Live = new(JsonSerializer.SerializeToUtf8Bytes(new HealthBody("ok"), WireJsonContext.Default.HealthBody));
    private static readonly JsonBytesReply Ready = new(JsonSerializer.SerializeToUtf8Bytes(new HealthBody("ready"), WireJsonContext.Default.HealthBody));

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder routes)
    {
        // As for every route: singletons looked up once, when the routes are mapped.
        var database = routes.ServiceProvider.GetRequiredService<Database>();
        var storage = routes.ServiceProvider.GetRequiredService<StorageStartup>();
        var drain = routes.ServiceProvider.GetRequiredService<ShutdownDrain>();
        routes.MapGet("/healthz", () => Live)
            .WithName("Liveness")
            .WithSummary("Liveness: the process answers; the database is never touched")
            .Produces<HealthBody>(StatusCodes.Status200OK, JsonBytesReply.ContentType);
        routes.MapGet("/readyz", () => CheckReady(database, storage, drain))
            .WithName("Readiness")
            .WithSummary("Readiness: the database opens and its schema is this binary's")
            .Produces<HealthBody>(StatusCodes.Status200OK, JsonBytesReply.ContentType)
            .ProducesErrors(StatusCodes.Status503ServiceUnavailable);
        return routes;
    }

    private static Results<JsonBytesReply, ErrorReply> CheckReady(Database database, StorageStartup storage, ShutdownDrain drain)
    {
        if (drain.Draining)
        {
            return new ErrorReply(StatusCodes.Status503ServiceUnavailable, "The service is shutting down.");
        }
        if (!storage.IsReady)
        {
            return new ErrorReply(StatusCodes.Status503ServiceUnavailable, "The database is not ready yet: it cannot be reached, or another instance is migrating it.");
        }
        return database.IsReady(out var problem)
            ? Ready
            : new ErrorReply(StatusCodes.Status503ServiceUnavailable, problem);
    }
}
