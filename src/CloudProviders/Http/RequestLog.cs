using System.Diagnostics;
using CloudProviders.Domain;

namespace CloudProviders.Http;

/// <summary>
/// One log line per request: method, path, status, duration, the caller's kind and a request id.
/// Never a header value, a token or a key. An incoming <c>X-Request-ID</c> of a safe shape is
/// echoed back; otherwise the service makes one.
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
                if (logger.IsEnabled(LogLevel.Information))
                {
                    var kind = context.Items.TryGetValue(CallerKindKey, out var value) ? (string)value! : "anonymous";
                    var path = context.Request.Path.Value ?? "/";
                    var milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    LogRequest(logger, context.Request.Method, path, context.Response.StatusCode, milliseconds, kind, requestId);
                }
            }
        });
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
