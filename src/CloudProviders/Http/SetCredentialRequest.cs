using System.Buffers;
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using CloudProviders.Domain;
using Microsoft.Net.Http.Headers;

namespace CloudProviders.Http;

/// <summary>
/// The PUT body, <c>{"api_key": "...", "cloud_fallback": false}</c>, read strictly and never
/// beyond <see cref="MaxBodyBytes"/>: 415 for a body that is not JSON, 413 for one that is too
/// large, then 400 for anything that is not exactly the contract.
/// </summary>
internal sealed record SetCredentialRequest(
    [property: JsonPropertyName("api_key"), StringLength(ProviderKey.MaxLength, MinimumLength = 1)] string ApiKey,
    [property: JsonPropertyName("cloud_fallback"), DefaultValue(false)] bool CloudFallback)
{
    public const int MaxBodyBytes = 16 * 1024;

    public static async Task<(SetCredentialRequest? Request, ErrorReply? Error)> ReadAsync(HttpRequest request)
    {
        if (!IsJson(request.ContentType))
        {
            return (null, new ErrorReply(StatusCodes.Status415UnsupportedMediaType, ErrorReply.NotJsonMessage));
        }
        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, TooLarge());
        }

        var buffer = ArrayPool<byte>.Shared.Rent(MaxBodyBytes + 1);
        try
        {
            var length = 0;
            int read;
            try
            {
                while ((read = await request.Body.ReadAsync(buffer.AsMemory(length, MaxBodyBytes + 1 - length), request.HttpContext.RequestAborted)) > 0)
                {
                    length += read;
                    if (length > MaxBodyBytes)
                    {
                        return (null, TooLarge());
                    }
                }
            }
            catch (IOException e) when (e is not (Microsoft.AspNetCore.Connections.ConnectionResetException or BadHttpRequestException) && !request.HttpContext.RequestAborted.IsCancellationRequested)
            {
                // Kestrel reports some malformed framing (a chunk size that overflows) as a plain
                // IOException rather than a BadHttpRequestException: it is the client's error all the same.
                return (null, ErrorReply.BadRequest("The request body is malformed: its chunked framing cannot be read."));
            }
            return TryParse(buffer.AsSpan(0, length), out var parsed, out var problem)
                ? (parsed, null)
                : (null, ErrorReply.BadRequest(problem));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>Parses the body: an object with a string <c>api_key</c> and an optional boolean <c>cloud_fallback</c>.</summary>
    /// <param name="problem">What is wrong, in plain English, for the 400 body. Never echoes the key.</param>
    public static bool TryParse(ReadOnlySpan<byte> json, out SetCredentialRequest? request, out string problem)
    {
        request = null;
        string? apiKey = null;
        bool? cloudFallback = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "The body must be a JSON object.";
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isKey = reader.ValueTextEquals("api_key"u8);
                var isFallback = !isKey && reader.ValueTextEquals("cloud_fallback"u8);
                reader.Read();
                if (isKey)
                {
                    if (apiKey is not null)
                    {
                        problem = "api_key appears more than once.";
                        return false;
                    }
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        problem = "api_key must be a string.";
                        return false;
                    }
                    apiKey = reader.GetString()!;
                }
                else if (isFallback)
                {
                    if (cloudFallback is not null)
                    {
                        problem = "cloud_fallback appears more than once.";
                        return false;
                    }
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                    {
                        problem = "cloud_fallback must be true or false.";
                        return false;
                    }
                    cloudFallback = reader.GetBoolean();
                }
                else
                {
                    // Unknown members are ignored, but must still be well-formed JSON.
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                problem = "The body is not valid JSON.";
                return false;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string that is not valid Unicode (a lone surrogate escape).
            problem = "The body is not valid JSON.";
            return false;
        }

        if (apiKey is null)
        {
            problem = "api_key is required.";
            return false;
        }
        if (ProviderKey.Problem(apiKey, "api_key") is { } invalid)
        {
            problem = invalid;
            return false;
        }
        request = new SetCredentialRequest(apiKey, cloudFallback ?? false);
        problem = "";
        return true;
    }

    /// <summary><c>application/json</c>, in any case, with no charset or a UTF-8 one.</summary>
    internal static bool IsJson(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media)
            || !media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var charset = media.Charset;
        return charset.Length == 0 || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase);
    }

    private static ErrorReply TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {MaxBodyBytes} bytes.");
}
