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
        routes.MapGet("/metrics", context =>
        {
            context.Response.ContentType = PrometheusExposition.ContentType;
            return context.Response.WriteAsync(exposition.Scrape());
        });
        return routes;
    }
}
