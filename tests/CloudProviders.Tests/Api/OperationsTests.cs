using System.Net;
using System.Security.Cryptography;
using CloudProviders.Domain;
using CloudProviders.Storage;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Api;

public sealed class RequestLogTests : IDisposable
{
    private readonly ServiceFactory _app = new();

    public RequestLogTests() => _app.SeedTeamA();

    [Fact]
    public async Task Each_request_logs_one_line_with_method_path_status_caller_kind_and_request_id()
    {
        var key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
        using var client = _app.ClientWith(key);
        using var request = new HttpRequestMessage(HttpMethod.Get, HttpAssert.StatusPath);
        request.Headers.Add("X-Request-ID", "trace-123.abc:9");
        var response = await client.SendAsync(request);
        Assert.Equal("trace-123.abc:9", Assert.Single(response.Headers.GetValues("X-Request-ID")));

        using var anonymous = _app.CreateClient();
        var refused = await anonymous.GetAsync(HttpAssert.StatusPath);
        var generated = Assert.Single(refused.Headers.GetValues("X-Request-ID"));
        Assert.Matches("^[0-9a-f]{32}$", generated);

        var lines = _app.Logs.Where(l => l.Contains("CloudProviders.Requests", StringComparison.Ordinal)).ToList();
        Assert.Contains(lines, l => l.Contains($"GET {HttpAssert.StatusPath} 200", StringComparison.Ordinal)
            && l.Contains("caller=sk", StringComparison.Ordinal) && l.Contains("request_id=trace-123.abc:9", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"GET {HttpAssert.StatusPath} 401", StringComparison.Ordinal)
            && l.Contains("caller=anonymous", StringComparison.Ordinal) && l.Contains($"request_id={generated}", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(key, StringComparison.Ordinal) || l.Contains(key[12..], StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("new\\nline")]
    [InlineData("quote\"")]
    public async Task An_unsafe_request_id_is_replaced_not_echoed(string unsafeId)
    {
        using var client = _app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.TryAddWithoutValidation("X-Request-ID", unsafeId);
        var response = await client.SendAsync(request);
        Assert.Matches("^[0-9a-f]{32}$", Assert.Single(response.Headers.GetValues("X-Request-ID")));
    }

    [Fact]
    public async Task A_request_id_longer_than_128_characters_is_replaced()
    {
        using var client = _app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Add("X-Request-ID", new string('a', 129));
        var response = await client.SendAsync(request);
        Assert.Matches("^[0-9a-f]{32}$", Assert.Single(response.Headers.GetValues("X-Request-ID")));
    }

    public void Dispose() => _app.Dispose();
}

[Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
public sealed class ReadOnlyReplicaTests : IDisposable
{
    private readonly ServiceFactory _replica = new(s =>
    {
        s["Database:ReadOnly"] = "true";
        s.Remove("Encryption:Key");
    });
    private readonly SqliteDatabase _writer;
    private readonly CredentialCipher _cipher = new(RandomNumberGenerator.GetBytes(32));

    public ReadOnlyReplicaTests()
    {
        // The primary (a writer process) made the file; the replica only ever reads it.
        _writer = new SqliteDatabase(_replica.DatabasePath);
        Schema.Migrate(_writer);
        var teams = new TeamStore(_writer, TimeProvider.System);
        teams.AddTeam(ServiceFactory.TeamA, "Team A");
        teams.AddMember(ServiceFactory.TeamA, TestUsers.Owner, Role.Owner);
        Writer.Set(ServiceFactory.TeamA, Provider.ComfyCloud, ServiceFactory.ComfyKey, cloudFallback: true, Actor.Cli);
    }

    private CredentialStore Writer => new(_writer, TimeProvider.System, new Lazy<CredentialCipher>(_cipher));

    private string DeviceKey() => new ApiKeyStore(_writer, TimeProvider.System).Create(ServiceFactory.TeamA, ApiKeyKind.Dk, null, null)!;

    [Fact]
    public async Task A_replica_serves_reads_and_sees_the_writers_changes_at_the_next_request()
    {
        using var client = _replica.ClientWith(DeviceKey());
        var before = await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        Assert.Equal("active", before.GetProperty("credential_status").GetString());

        Writer.Revoke(ServiceFactory.TeamA, Provider.ComfyCloud, Actor.Cli);
        var after = await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        Assert.Equal("revoked", after.GetProperty("credential_status").GetString());
        await HttpAssert.Json(await client.GetAsync("/readyz"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_replica_refuses_writes_with_503_after_authentication_and_authorization_and_changes_nothing()
    {
        using var device = _replica.ClientWith(DeviceKey());
        using var integration = _replica.ClientWith(new ApiKeyStore(_writer, TimeProvider.System).Create(ServiceFactory.TeamA, ApiKeyKind.Sk, null, null));
        var before = SqliteFiles.Contents(_replica.DatabasePath);
        var body = new StringContent("""{"api_key":"comfyui-new-key-000000000000"}""", System.Text.Encoding.UTF8, "application/json");
        var message = await HttpAssert.Error(await device.PutAsync(HttpAssert.StatusPath, body), HttpStatusCode.ServiceUnavailable);
        Assert.Contains("read-only", message, StringComparison.Ordinal);
        await HttpAssert.Error(await device.DeleteAsync(HttpAssert.StatusPath), HttpStatusCode.ServiceUnavailable);
        // 503 comes after 403, and before 415.
        await HttpAssert.Error(await device.PutAsync(HttpAssert.StatusPath, new StringContent("x", System.Text.Encoding.UTF8, "text/plain")), HttpStatusCode.ServiceUnavailable);
        await HttpAssert.Error(await integration.PutAsync(HttpAssert.StatusPath, body), HttpStatusCode.Forbidden);

        Assert.Equal(before, SqliteFiles.Contents(_replica.DatabasePath));
        Assert.Equal(ServiceFactory.ComfyKey, Writer.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud));
        Assert.False(File.Exists(_replica.DatabasePath + ".key"));
    }

    [Fact]
    public async Task A_replica_is_not_ready_when_the_schema_differs_from_its_own()
    {
        using var client = _replica.CreateClient();
        await HttpAssert.Json(await client.GetAsync("/readyz"), HttpStatusCode.OK);
        using (var connection = _writer.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"PRAGMA user_version = {Schema.Version + 1};";
            command.ExecuteNonQuery();
        }
        var problem = await HttpAssert.Error(await client.GetAsync("/readyz"), HttpStatusCode.ServiceUnavailable);
        Assert.Contains("schema", problem, StringComparison.Ordinal);
    }

    public void Dispose() => _replica.Dispose();
}
