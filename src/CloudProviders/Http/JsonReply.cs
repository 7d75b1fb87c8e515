using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CloudProviders.Http;

/// <summary>
/// A JSON response with <c>Content-Type: application/json</c> exactly (RFC 8259 defines no
/// charset parameter), written straight to the response body.
/// </summary>
internal class JsonReply<T>(T value, JsonTypeInfo<T> typeInfo, int statusCode = StatusCodes.Status200OK) : IResult
{
    public T Value => value;

    public int StatusCode => statusCode;

    public virtual Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        response.ContentType = JsonBytesReply.ContentType;
        return JsonSerializer.SerializeAsync(response.Body, value, typeInfo, httpContext.RequestAborted);
    }
}

/// <summary>
/// A JSON body serialized ahead of time: the hot path copies bytes into the response and nothing
/// else. Copied, not written with a flush of its own: the server sends the response, headers and
/// body together, when the request ends.
/// </summary>
internal sealed class JsonBytesReply(byte[] json) : IResult
{
    /// <summary>Exactly this: RFC 8259 defines no charset parameter for JSON.</summary>
    public const string ContentType = "application/json";

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.ContentLength = json.Length;
        response.BodyWriter.Write(json);
        return Task.CompletedTask;
    }
}

/// <summary>An error: <c>{"error_message": "..."}</c>, with the headers its status calls for.</summary>
/// <param name="retryAfterSeconds">For 429 and 503: when to try again (a 503 without one says 1 s).</param>
internal sealed class ErrorReply(int statusCode, string message, int? retryAfterSeconds = null) : JsonReply<ErrorBody>(new ErrorBody(message), WireJsonContext.Default.ErrorBody, statusCode)
{
    public const string UnauthorizedMessage = "Authentication required: send a valid bearer token.";
    public const string StorageUnavailableMessage = "Storage is unavailable; try again shortly.";
    public const string NotJsonMessage = "The request body must be JSON (Content-Type: application/json).";

    public static ErrorReply Unauthorized() => new(StatusCodes.Status401Unauthorized, UnauthorizedMessage);

    public static ErrorReply BadRequest(string message) => new(StatusCodes.Status400BadRequest, message);

    public static ErrorReply Forbidden(string message) => new(StatusCodes.Status403Forbidden, message);

    public static ErrorReply NotFound(string message) => new(StatusCodes.Status404NotFound, message);

    public static ErrorReply StorageUnavailable() => new(StatusCodes.Status503ServiceUnavailable, StorageUnavailableMessage);

    public override Task ExecuteAsync(HttpContext httpContext)
    {
        var headers = httpContext.Response.Headers;
        if (StatusCode == StatusCodes.Status401Unauthorized)
        {
            headers.WWWAuthenticate = "Bearer";
        }
        else if (retryAfterSeconds is { } seconds)
        {
            headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (StatusCode == StatusCodes.Status503ServiceUnavailable)
        {
            // Storage trouble is usually a lock or a file being replaced: worth a retry soon.
            headers.RetryAfter = "1";
        }
        return base.ExecuteAsync(httpContext);
    }
}
