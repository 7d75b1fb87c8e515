using CloudProviders.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudProviders.Http;

/// <summary>Liveness (never touches storage) and readiness (the database opens and its schema is current).</summary>
internal static class HealthEndpoints
{
    private static readonly JsonReply<HealthBody> Live = new(new HealthBody("ok"), WireJsonContext.Default.HealthBody);
    private static readonly JsonReply<HealthBody> Ready = new(new HealthBody("ready"), WireJsonContext.Default.HealthBody);

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder routes)
    {
        // As for every route: singletons looked up once, when the routes are mapped.
        var database = routes.ServiceProvider.GetRequiredService<Database>();
        var drain = routes.ServiceProvider.GetRequiredService<ShutdownDrain>();
        routes.MapGet("/healthz", () => Live);
        routes.MapGet("/readyz", () => CheckReady(database, drain));
        return routes;
    }

    private static Results<JsonReply<HealthBody>, ErrorReply> CheckReady(Database database, ShutdownDrain drain)
    {
        if (drain.Draining)
        {
            return new ErrorReply(StatusCodes.Status503ServiceUnavailable, "The service is shutting down.");
        }
        return database.IsReady(out var problem)
            ? Ready
            : new ErrorReply(StatusCodes.Status503ServiceUnavailable, problem);
    }
}
