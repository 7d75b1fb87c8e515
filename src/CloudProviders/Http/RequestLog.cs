using System.Diagnostics;
using System.Globalization;
using CloudProviders.Domain;
using CloudProviders.Metrics;

namespace CloudProviders.Http;

/// <summary>
/// One log line per request: method, path, status, duration, the caller's kind and a request id.
/// Never a header value, a token or a key. An incoming <c>X-Request-ID</c> of a safe shape is
/// echoed back; otherwise the service makes one. The same facts, by route template rather than
/// path, go to the request metrics.
/// </summary>
internal static class RequestLog
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
                    var line = new RequestLine(context.Request.Method, context.Request.Path.Value ?? "/", context.Response.StatusCode, elapsed.TotalMilliseconds, kind, requestId);
                    logger.Log(LogLevel.Information, RequestLine.EventId, line, null, RequestLine.Format);
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

    /// <summary>
    /// One request's log entry: its message, and its values by name for the JSON formatter. What a
    /// <c>[LoggerMessage]</c> method would give, formatted without boxing each value on the request path.
    /// </summary>
    private readonly struct RequestLine(string method, string path, int statusCode, double durationMs, string callerKind, string requestId)
        : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public static readonly EventId EventId = new(1, "Request");

        public static readonly Func<RequestLine, Exception?, string> Format = static (line, _) => line.ToString();

        private const string Template = "{Method} {Path} {StatusCode} {DurationMs:0.000} ms caller={CallerKind} request_id={RequestId}";

        public int Count => 7;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("Method", method),
            1 => new("Path", path),
            2 => new("StatusCode", statusCode),
            3 => new("DurationMs", durationMs),
            4 => new("CallerKind", callerKind),
            5 => new("RequestId", requestId),
            6 => new("{OriginalFormat}", Template),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{method} {path} {statusCode} {durationMs:0.000} ms caller={callerKind} request_id={requestId}");
    }
}
