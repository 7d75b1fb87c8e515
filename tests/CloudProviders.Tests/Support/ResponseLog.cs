using System.Text.Json;

namespace CloudProviders.Tests.Support;

/// <summary>
/// Every response the tests receive, one JSON line each, in the file named by
/// <c>CLOUD_PROVIDERS_RESPONSE_LOG</c>: the test command checks each against the API
/// description (tests/openapi/check.mjs). Off when the variable is not set.
/// </summary>
internal static class ResponseLog
{
    private static readonly string? File = Environment.GetEnvironmentVariable("CLOUD_PROVIDERS_RESPONSE_LOG");
    private static readonly Lock Writing = new();

    public static async Task RecordAsync(HttpRequestMessage request, HttpResponseMessage response, bool fromBinary, CancellationToken cancellation)
    {
        if (File is null)
        {
            return;
        }
        var body = await response.Content.ReadAsStringAsync(cancellation);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("origin", fromBinary ? "binary" : "in-process");
            json.WriteString("method", request.Method.Method);
            json.WriteString("path", request.RequestUri?.AbsolutePath);
            json.WriteNumber("status", (int)response.StatusCode);
            json.WriteString("contentType", response.Content.Headers.ContentType?.ToString());
            json.WriteStartObject("headers");
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                json.WriteString(name.ToLowerInvariant(), string.Join(", ", values));
            }
            json.WriteEndObject();
            json.WriteString("body", body);
            json.WriteEndObject();
        }
        var line = System.Text.Encoding.UTF8.GetString(buffer.ToArray());
        lock (Writing)
        {
            System.IO.File.AppendAllText(File, line + "\n");
        }
    }
}
