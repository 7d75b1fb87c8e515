using System.Net;
using System.Text.Json;

namespace CloudProviders.Tests.Support;

internal static class HttpAssert
{
    public const string StatusPath = "/api/v1/cloud-providers/comfy-cloud";

    /// <summary>The status code, <c>Content-Type: application/json</c>, <c>Cache-Control: no-store</c>, and the body.</summary>
    public static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    /// <summary>An error: exactly one member, <c>error_message</c>, a non-empty string.</summary>
    public static async Task<string> Error(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await Json(response, status);
        Assert.Equal(JsonValueKind.Object, body.ValueKind);
        var member = Assert.Single(body.EnumerateObject());
        Assert.Equal("error_message", member.Name);
        var message = member.Value.GetString();
        Assert.False(string.IsNullOrWhiteSpace(message));
        if (status == HttpStatusCode.Unauthorized)
        {
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        }
        return message!;
    }

    /// <summary>
    /// The answer once a change that another process made has reached the server: at once on
    /// SQLite (the next request sees every commit), within the notification's latency on
    /// PostgreSQL, where the request is sent again until it gets the status, for 10 s at most.
    /// </summary>
    public static async Task<HttpResponseMessage> AfterChange(Func<Task<HttpResponseMessage>> request, HttpStatusCode status)
    {
        var response = await request();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (TestEngine.Postgres && response.StatusCode != status && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
            response = await request();
        }
        return response;
    }

    /// <summary>Polls until the condition holds, and fails, naming what was awaited, if it does not within the limit.</summary>
    public static async Task Within(TimeSpan limit, string what, Func<Task<bool>> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < limit, $"Not within {limit.TotalSeconds} s: {what}");
            await Task.Delay(10);
        }
    }
}
