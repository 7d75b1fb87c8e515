using System.Diagnostics;
using CloudProviders.Domain;
using CloudProviders.Metrics;

namespace CloudProviders.Http;

/// <summary>
/// What every request leaves behind: its id in the response, its measurements
/// (<see cref="RequestMetrics"/>), and one log line (<see cref="RequestLine"/>): method, path,
/// status, duration, the caller's kind and the request id. Never a header value, a token or a key.
/// The caller's kind is the <see cref="Actor"/> that caller resolution set on the request, if any.
/// </summary>
internal static class RequestLog
{
    private const string Anonymous = "anonymous";

    public static IApplicationBuilder UseRequestLog(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("CloudProviders.Requests");
        // Log levels are read once, at start (the configuration is never watched).
        var logging = logger.IsEnabled(LogLevel.Information);
        return app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            var requestId = RequestId.For(context.Request);
            context.Response.Headers[RequestId.Header] = requestId;
            try
            {
                await next(context);
            }
            finally
            {
                var elapsed = Stopwatch.GetElapsedTime(started);
                var kind = context.Features.Get<Actor>()?.Kind.Name() ?? Anonymous;
                if (ServiceMetrics.Requests.Enabled)
                {
                    RequestMetrics.Measure(context, kind, elapsed);
                }
                if (logging)
                {
                    var line = new RequestLine(context.Request.Method, context.Request.Path.Value ?? "/", context.Response.StatusCode, elapsed, kind, requestId);
                    logger.Log(LogLevel.Information, RequestLine.EventId, line, null, RequestLine.Format);
                }
            }
        });
    }
}
