using CloudProviders.Metrics;

namespace CloudProviders.Http;

/// <summary>A request's measurements: its count and its duration, by route template, never by path.</summary>
internal static class RequestMetrics
{
    private static readonly string[] MeasuredMethods =
        [HttpMethods.Get, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Head, HttpMethods.Post, HttpMethods.Options, HttpMethods.Patch];

    public static void Measure(HttpContext context, string callerKind, TimeSpan elapsed)
    {
        // Route templates and known methods only: a path a client made up never becomes a label.
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
        var known = HttpMethods.GetCanonicalizedValue(context.Request.Method);
        var method = Array.IndexOf(MeasuredMethods, known) >= 0 ? known : "other";
        var status = ServiceMetrics.StatusLabel(context.Response.StatusCode);
        ServiceMetrics.Requests.Add(1, new("route", route), new("method", method), new("status", status), new("caller", callerKind));
        ServiceMetrics.RequestDuration.Record(elapsed.TotalSeconds, new("route", route), new("method", method));
    }
}
