using CloudProviders.Metrics;

namespace CloudProviders.Http;

/// <summary><c>GET /metrics</c>: the Prometheus exposition, on the main port, unless <c>Metrics:Enabled=false</c> (then it is a 404).</summary>
internal static class MetricsEndpoint
{
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder routes)
    {
        if (!routes.ServiceProvider.GetRequiredService<Settings>().MetricsEnabled)
        {
            return routes;
        }
        var exposition = routes.ServiceProvider.GetRequiredService<PrometheusExposition>();
        routes.MapGet("/metrics", () => TypedResults.Text(exposition.Scrape(), PrometheusExposition.ContentType))
            .WithName("Metrics")
            .WithSummary("Prometheus metrics, in the text exposition format 0.0.4")
            .Produces<string>(StatusCodes.Status200OK, PrometheusExposition.ContentType)
            .ProducesErrors(StatusCodes.Status404NotFound);
        return routes;
    }
}
