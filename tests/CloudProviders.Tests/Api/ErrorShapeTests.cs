using System.Net;
using CloudProviders.Domain;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Api;

public sealed class ErrorShapeTests : IDisposable
{
    private readonly ExplodingClock _clock = new();
    private readonly ServiceFactory _app;

    public ErrorShapeTests()
    {
        _app = ServiceFactory.WithClock(_clock);
        _app.SeedTeamA();
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/api/v1/cloud-providers")]
    [InlineData("/api/v1/cloud-providers/comfy_cloud")]
    [InlineData("/api/v1/cloud-providers/other-cloud")]
    [InlineData("/api/v2/cloud-providers/comfy-cloud")]
    public async Task An_unknown_path_gets_404_in_the_error_shape(string path)
    {
        using var client = _app.CreateClient();
        Assert.Equal("Not found.", await HttpAssert.Error(await client.GetAsync(path), HttpStatusCode.NotFound));
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PATCH")]
    [InlineData("TRACE")]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    public async Task A_wrong_method_gets_405_with_Allow_before_authentication(string method)
    {
        using var client = _app.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), HttpAssert.StatusPath);
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["DELETE", "GET", "PUT"], response.Content.Headers.Allow.Order(StringComparer.Ordinal));
        if (method != "HEAD")
        {
            await HttpAssert.Error(response, HttpStatusCode.MethodNotAllowed);
        }
    }

    [Fact]
    public async Task An_unhandled_exception_is_a_500_that_leaks_nothing()
    {
        // A key with an expiry: checking it reads the clock, which then throws.
        using var client = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk, TimeSpan.FromDays(1)));
        _clock.Armed = true;
        var response = await client.GetAsync(HttpAssert.StatusPath);
        var message = await HttpAssert.Error(response, HttpStatusCode.InternalServerError);
        Assert.Equal("Internal server error.", message);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(ExplodingClock.Detail, body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
    }

    [Fact]
    [Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
    public async Task A_vanished_database_gets_503_with_Retry_After_and_fails_readiness_without_being_recreated()
    {
        using var client = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_app.DatabasePath + suffix);
        }
        var response = await client.GetAsync(HttpAssert.StatusPath);
        await HttpAssert.Error(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
        await HttpAssert.Error(await client.GetAsync("/readyz"), HttpStatusCode.ServiceUnavailable);
        Assert.False(File.Exists(_app.DatabasePath));
        var health = await HttpAssert.Json(await client.GetAsync("/healthz"), HttpStatusCode.OK);
        Assert.Equal("ok", health.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Liveness_and_readiness_answer_200_when_all_is_well()
    {
        using var client = _app.CreateClient();
        Assert.Equal("ok", (await HttpAssert.Json(await client.GetAsync("/healthz"), HttpStatusCode.OK)).GetProperty("status").GetString());
        Assert.Equal("ready", (await HttpAssert.Json(await client.GetAsync("/readyz"), HttpStatusCode.OK)).GetProperty("status").GetString());
    }

    public void Dispose() => _app.Dispose();

    private sealed class ExplodingClock : TimeProvider
    {
        public const string Detail = "secret-internal-detail";

        public bool Armed { get; set; }

        public override DateTimeOffset GetUtcNow() =>
            Armed ? throw new InvalidOperationException(Detail) : base.GetUtcNow();
    }
}
