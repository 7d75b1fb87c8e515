using CloudProviders.Metrics;
using CloudProviders.Storage;
using Microsoft.Data.Sqlite;

namespace CloudProviders.Http;

/// <summary>
/// Makes every response that reaches the application carry the platform's error shape: bodiless
/// 4xx/5xx from routing (404, 405) get <c>{"error_message"}</c>; storage faults become 503 with
/// <c>Retry-After</c>; anything else unhandled becomes a 500 that leaks no exception text.
/// </summary>
internal static partial class ErrorBodies
{
    public static IApplicationBuilder UseErrorBodies(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ErrorBodies));
        var database = app.ApplicationServices.GetRequiredService<Database>();
        var engine = new KeyValuePair<string, object?>("engine", app.ApplicationServices.GetRequiredService<Settings>().Engine.Name());
        return app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Exception exception) when (!context.Response.HasStarted)
            {
                var reply = ReplyFor(exception, context, logger);
                if (exception is System.Data.Common.DbException fault)
                {
                    database.AfterFault(fault);
                    ServiceMetrics.StorageErrors.Add(1, engine);
                }
                context.Response.Clear();
                NoStore.Apply(context.Response);
                await reply.ExecuteAsync(context);
                return;
            }

            var response = context.Response;
            if (!response.HasStarted && response.StatusCode >= 400)
            {
                await new ErrorReply(response.StatusCode, MessageFor(response.StatusCode)).ExecuteAsync(context);
            }
        });
    }

    /// <summary>
    /// The reply for an exception: storage faults are 503, a malformed request (Kestrel's
    /// <see cref="BadHttpRequestException"/>, bad chunked framing among them) is its 4xx, a client
    /// that went away mid-request is 499 and no fault of the server's. That list is complete:
    /// anything else is a 500.
    /// </summary>
    internal static ErrorReply ReplyFor(Exception exception, HttpContext context, ILogger logger)
    {
        switch (exception)
        {
            case SqliteException sqlite:
                LogStorageFault(logger, sqlite.SqliteErrorCode, sqlite.SqliteExtendedErrorCode);
                return ErrorReply.StorageUnavailable();
            case System.Data.Common.DbException storage:
                // PostgreSQL down, restarting, failing over, or its pool exhausted: all of it passes.
                LogDatabaseFault(logger, storage.SqlState ?? "none");
                return ErrorReply.StorageUnavailable();
            case StorageNotReadyException:
                return ErrorReply.StorageUnavailable();
            case MasterKeyChangedException:
                LogKeyChanged(logger);
                return ErrorReply.StorageUnavailable();
            case SchemaException:
                LogSchemaFault(logger);
                return ErrorReply.StorageUnavailable();
            case BadHttpRequestException bad:
                return new ErrorReply(bad.StatusCode, MessageFor(bad.StatusCode));
            case OperationCanceledException or Microsoft.AspNetCore.Connections.ConnectionResetException or IOException
                when context.RequestAborted.IsCancellationRequested || exception is Microsoft.AspNetCore.Connections.ConnectionResetException:
                LogClientGone(logger);
                // Nobody is left to answer, and Kestrel's own drain of the half-read body would
                // fail on the broken read and log at Error: end the connection here.
                context.Abort();
                return new ErrorReply(ClientClosedRequest, "The client closed the request.");
            default:
                LogUnhandled(logger, exception);
                return new ErrorReply(StatusCodes.Status500InternalServerError, MessageFor(500));
        }
    }

    private static string MessageFor(int statusCode) => statusCode switch
    {
        400 => "The request is malformed.",
        401 => ErrorReply.UnauthorizedMessage,
        403 => "You are not allowed to do this.",
        404 => "Not found.",
        405 => "This method is not allowed on this path.",
        408 => "The request took too long to arrive.",
        411 => "A Content-Length is required.",
        413 => "The request body is too large.",
        414 => "The request URI is too long.",
        415 => ErrorReply.NotJsonMessage,
        431 => "The request headers are too large.",
        503 => ErrorReply.StorageUnavailableMessage,
        >= 500 => "Internal server error.",
        _ => "The request could not be served.",
    };

    /// <summary>nginx's status for a request its client abandoned; the client never reads it.</summary>
    private const int ClientClosedRequest = 499;

    [LoggerMessage(Level = LogLevel.Debug, Message = "The client went away before its request was read; answered 499.")]
    private static partial void LogClientGone(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage unavailable (SQLite error {Code}, extended {ExtendedCode}); answered 503.")]
    private static partial void LogStorageFault(ILogger logger, int code, int extendedCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage unavailable (database error, SQLSTATE {SqlState}); answered 503.")]
    private static partial void LogDatabaseFault(ILogger logger, string sqlState);

    [LoggerMessage(Level = LogLevel.Error, Message = "The database's master key was rotated since this process started; writes get 503 until it restarts with the new key (Encryption:KeyFile).")]
    private static partial void LogKeyChanged(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database schema is not one this binary serves; answered 503.")]
    private static partial void LogSchemaFault(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception; answered 500.")]
    private static partial void LogUnhandled(ILogger logger, Exception exception);
}
