using System.Diagnostics;
using CloudProviders.Domain;
using CloudProviders.Metrics;

namespace CloudProviders.Http;

/// <summary>
/// One log line per request: method, path, status, duration, the caller's kind and a request id.
/// Never a header value, a token or a key. An incoming <c>X-Request-ID</c> of a safe shape is
/// echoed back; otherwise the service makes one. The same facts, by route template rather than
/// path, go to the request metrics.
/// </summary>
internal static partial class RequestLog
{
    public const string RequestIdHeader = "X-Request-ID";
    private const int MaxRequestIdLength = 128;
    private static readonly object CallerKindKey = new();

    /// <summary>Records who the request turned out to be, for its log line.</summary>
    public static void SetCaller(HttpContext context, Actor actor) => context.Items[CallerKindKey] = actor.KindName;

    public static IApplicationBuilder UseRequestLog(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("CloudProviders.Requests");
        return app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            var incoming = context.Request.Headers[RequestIdHeader];
            var requestId = incoming.Count == 1 && IsSafe(incoming[0]) ? incoming[0]! : NewId();
            context.Response.Headers[RequestIdHeader] = requestId;
            try
            {
                await next(context);
            }
            finally
            {
                var elapsed = Stopwatch.GetElapsedTime(started);
                var kind = context.Items.TryGetValue(CallerKindKey, out var value) ? (string)value! : "anonymous";
                if (ServiceMetrics.Requests.Enabled)
                {
                    Measure(context, kind, elapsed);
                }
                if (logger.IsEnabled(LogLevel.Information))
                {
                    var path = context.Request.Path.Value ?? "/";
                    LogRequest(logger, context.Request.Method, path, context.Response.StatusCode, elapsed.TotalMilliseconds, kind, requestId);
                }
            }
        });
    }

    private static readonly string[] MeasuredMethods =
        [HttpMethods.Get, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Head, HttpMethods.Post, HttpMethods.Options, HttpMethods.Patch];

    private static void Measure(HttpContext context, string callerKind, TimeSpan elapsed)
    {
        // Route templates and known methods only: a path a client made up never becomes a label.
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
        var known = HttpMethods.GetCanonicalizedValue(context.Request.Method);
        var method = Array.IndexOf(MeasuredMethods, known) >= 0 ? known : "other";
        var status = ServiceMetrics.StatusLabel(context.Response.StatusCode);
        ServiceMetrics.Requests.Add(1, new("route", route), new("method", method), new("status", status), new("caller", callerKind));
        ServiceMetrics.RequestDuration.Record(elapsed.TotalSeconds, new("route", route), new("method", method));
    }

    /// <summary>Letters, digits and <c>-_.:</c>, at most 128: nothing that could forge a log line or a header.</summary>
    private static bool IsSafe(string? id) =>
        id is { Length: > 0 and <= MaxRequestIdLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    /// <summary>
    /// 128 random bits: unique enough to find a request by, and no secret, so the fast generator
    /// will do (the cryptographic one costs a call into OpenSSL and a syscall on every request).
    /// </summary>
    private static string NewId()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "{Method} {Path} {StatusCode} {DurationMs:0.000} ms caller={CallerKind} request_id={RequestId}")]
    private static partial void LogRequest(ILogger logger, string method, string path, int statusCode, double durationMs, string callerKind, string requestId);
}
