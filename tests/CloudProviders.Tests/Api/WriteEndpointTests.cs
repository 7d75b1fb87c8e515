using System.Net;
using System.Net.Http.Headers;
using System.Text;
using CloudProviders.Domain;
using CloudProviders.Http;
using CloudProviders.Storage;
using CloudProviders.Tests.Support;
using Microsoft.Data.Sqlite;

namespace CloudProviders.Tests.Api;

public sealed class WriteEndpointTests : IDisposable
{
    private const string NewKey = "comfyui-fedcba9876543210fedcba9876543210fedcba9876543210fedcba98765432";
    private readonly ServiceFactory _app = new();

    public WriteEndpointTests() => _app.SeedTeamA();

    private CredentialStore Store => _app.Get<CredentialStore>();

    private static StringContent Json(string body, string contentType = "application/json")
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    private static string Body(string key = NewKey, bool? fallback = null) =>
        fallback is null ? $$"""{"api_key":"{{key}}"}""" : $$"""{"api_key":"{{key}}","cloud_fallback":{{(fallback.Value ? "true" : "false")}}}""";

    private HttpClient Owner() => _app.ClientWith(TestKeys.Hs256(TestUsers.Owner), ServiceFactory.TeamA);

    /// <summary>The stored row and the audit trail, to prove that a refused request changed nothing.</summary>
    /// <summary>What a refused write must leave as it was: team A's status, its stored key, and its audit trail's length.</summary>
    private sealed record TeamASnapshot(CredentialStatus? Status, string? Key, int AuditRows);

    private TeamASnapshot Snapshot() => new(
        Store.Find(ServiceFactory.TeamA, Provider.ComfyCloud),
        Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud),
        new AuditTrail(_app.Get<Database>()).List(ServiceFactory.TeamA).Count);

    [Fact]
    public async Task An_owner_sets_the_key_and_gets_the_status_body()
    {
        using var client = Owner();
        var body = await HttpAssert.Json(await client.PutAsync(HttpAssert.StatusPath, Json(Body(fallback: true))), HttpStatusCode.OK);
        Assert.Equal("active", body.GetProperty("credential_status").GetString());
        Assert.True(body.GetProperty("cloud_fallback").GetBoolean());
        Assert.Equal("comfyui-...5432", body.GetProperty("key_preview").GetString());
        Assert.Equal(NewKey, Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud));
        var read = await client.GetStringAsync(HttpAssert.StatusPath);
        Assert.Contains("\"key_preview\":\"comfyui-...5432\"", read, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_may_set_the_key()
    {
        using var admin = _app.ClientWith(_app.Keys.Es256(TestUsers.Admin), ServiceFactory.TeamA);
        await HttpAssert.Json(await admin.PutAsync(HttpAssert.StatusPath, Json(Body())), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_device_key_sets_its_own_teams_key_whatever_X_Team_ID_says()
    {
        using var device = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Dk), ServiceFactory.TeamB);
        await HttpAssert.Json(await device.PutAsync(HttpAssert.StatusPath, Json(Body("device-set-key-0000000001"))), HttpStatusCode.OK);
        Assert.Equal("device-set-key-0000000001", Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud));
        Assert.Null(Store.Find(ServiceFactory.TeamB, Provider.ComfyCloud));
    }

    [Fact]
    public async Task Integration_keys_members_and_viewers_get_403_and_change_nothing()
    {
        var before = Snapshot();
        var callers = new[]
        {
            _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk)),
            _app.ClientWith(TestKeys.Hs256(TestUsers.Member), ServiceFactory.TeamA),
            _app.ClientWith(TestKeys.Hs256(TestUsers.Viewer), ServiceFactory.TeamA),
            _app.ClientWith(TestKeys.Hs256(TestUsers.OtherTeamOwner), ServiceFactory.TeamA),
        };
        foreach (var client in callers)
        {
            using (client)
            {
                await HttpAssert.Error(await client.PutAsync(HttpAssert.StatusPath, Json(Body())), HttpStatusCode.Forbidden);
                await HttpAssert.Error(await client.DeleteAsync(HttpAssert.StatusPath), HttpStatusCode.Forbidden);
            }
        }
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task Checks_run_in_the_contract_order_401_400_403_415_413_400()
    {
        var huge = new string('x', SetCredentialRequest.MaxBodyBytes + 1);
        using var anonymous = _app.CreateClient();
        await HttpAssert.Error(await anonymous.PutAsync(HttpAssert.StatusPath, Json(huge, "text/plain")), HttpStatusCode.Unauthorized);

        using var noTeam = _app.ClientWith(TestKeys.Hs256(TestUsers.Owner));
        await HttpAssert.Error(await noTeam.PutAsync(HttpAssert.StatusPath, Json(huge, "text/plain")), HttpStatusCode.BadRequest);

        using var viewer = _app.ClientWith(TestKeys.Hs256(TestUsers.Viewer), ServiceFactory.TeamA);
        await HttpAssert.Error(await viewer.PutAsync(HttpAssert.StatusPath, Json(huge, "text/plain")), HttpStatusCode.Forbidden);

        using var owner = Owner();
        await HttpAssert.Error(await owner.PutAsync(HttpAssert.StatusPath, Json(huge, "text/plain")), HttpStatusCode.UnsupportedMediaType);
        await HttpAssert.Error(await owner.PutAsync(HttpAssert.StatusPath, Json(huge)), HttpStatusCode.RequestEntityTooLarge);
        await HttpAssert.Error(await owner.PutAsync(HttpAssert.StatusPath, Json("{")), HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/json; charset=latin1")]
    [InlineData("application/jsonx")]
    public async Task A_body_that_is_not_json_gets_415(string? contentType)
    {
        using var client = Owner();
        var content = new StringContent(Body(), Encoding.UTF8);
        content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
        await HttpAssert.Error(await client.PutAsync(HttpAssert.StatusPath, content), HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON")]
    [InlineData("application/json;charset=UTF-8")]
    public async Task Json_in_any_spelling_of_its_media_type_is_accepted(string contentType)
    {
        using var client = Owner();
        await HttpAssert.Json(await client.PutAsync(HttpAssert.StatusPath, Json(Body(), contentType)), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_body_over_16384_bytes_gets_413_even_without_a_content_length()
    {
        using var client = Owner();
        var padding = new string(' ', SetCredentialRequest.MaxBodyBytes);
        var chunked = new StreamContent(new UnknownLengthStream(Encoding.UTF8.GetBytes(Body() + padding)));
        chunked.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
        Assert.Null(chunked.Headers.ContentLength);
        await HttpAssert.Error(await client.PutAsync(HttpAssert.StatusPath, chunked), HttpStatusCode.RequestEntityTooLarge);

        // Exactly the limit is fine.
        var exact = Body() + new string(' ', SetCredentialRequest.MaxBodyBytes - Encoding.UTF8.GetByteCount(Body()));
        await HttpAssert.Json(await client.PutAsync(HttpAssert.StatusPath, Json(exact)), HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("42")]
    [InlineData("\"comfyui-key\"")]
    [InlineData("{}")]
    [InlineData("{\"cloud_fallback\":true}")]
    [InlineData("{\"api_key\":\"\"}")]
    [InlineData("{\"api_key\":null}")]
    [InlineData("{\"api_key\":42}")]
    [InlineData("{\"api_key\":[\"k\"]}")]
    [InlineData("{\"api_key\":{\"k\":1}}")]
    [InlineData("{\"api_key\":\"k\",\"cloud_fallback\":\"true\"}")]
    [InlineData("{\"api_key\":\"k\",\"cloud_fallback\":1}")]
    [InlineData("{\"api_key\":\"k\",\"cloud_fallback\":null}")]
    [InlineData("{\"api_key\":\"a\",\"api_key\":\"b\"}")]
    [InlineData("{\"api_key\":\"a\",\"api\\u005fkey\":\"b\"}")]
    [InlineData("{\"api_key\":\"k\",\"cloud_fallback\":true,\"cloud_fallback\":false}")]
    [InlineData("{\"api_key\":\"\\ud800-lone-surrogate\"}")]
    [InlineData("{\"api_key\":\"k\"} trailing")]
    [InlineData("{\"api_key\":\"k\"}{}")]
    [InlineData("{\"api_key\":\"k\",}")]
    [InlineData("{'api_key':'k'}")]
    [InlineData("{\"api_key\":\"\\u001b[2K\\r\\n2026-01-01T00:00:00Z\\tcomfy_cloud\\tset\"}")]
    [InlineData("{\"api_key\":\"comfyui-key-with-a-tab\\there-00000\"}")]
    [InlineData("{\"api_key\":\"comfyui-key-with-del-\\u007f-000000\"}")]
    [InlineData("{\"api_key\":\"comfyui-key-with-c1-\\u0085-0000000\"}")]
    [InlineData("{\"api_key\":\"comfyui-line-separator-\\u2028-00\"}")]
    [InlineData("{\"api_key\":\"comfyui-bidi-override-\\u202e-000\"}")]
    public async Task A_bad_body_gets_400_and_changes_nothing(string body)
    {
        var before = Snapshot();
        using var client = Owner();
        await HttpAssert.Error(await client.PutAsync(HttpAssert.StatusPath, Json(body)), HttpStatusCode.BadRequest);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task Key_length_counts_unicode_characters_from_1_to_512()
    {
        using var client = Owner();
        var emoji512 = string.Concat(Enumerable.Repeat("\U0001F511", 512));
        await HttpAssert.Json(await client.PutAsync(HttpAssert.StatusPath, Json(Body(emoji512))), HttpStatusCode.OK);
        Assert.Equal(emoji512, Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud));
        await HttpAssert.Error(await client.PutAsync(HttpAssert.StatusPath, Json(Body(emoji512 + "x"))), HttpStatusCode.BadRequest);
        var body = await HttpAssert.Json(await client.PutAsync(HttpAssert.StatusPath, Json(Body("k"))), HttpStatusCode.OK);
        Assert.False(body.TryGetProperty("key_preview", out _));
        await HttpAssert.Json(await client.PutAsync(HttpAssert.StatusPath, Json(Body(new string('k', 512)))), HttpStatusCode.OK);
        await HttpAssert.Error(await client.PutAsync(HttpAssert.StatusPath, Json(Body(new string('k', 513)))), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Unknown_fields_are_ignored()
    {
        using var client = Owner();
        await HttpAssert.Json(
            await client.PutAsync(HttpAssert.StatusPath, Json($$"""{"extra":{"nested":[1,2,{"a":null}]},"api_key":"{{NewKey}}","cloud_fallback":true,"note":"x"}""")),
            HttpStatusCode.OK);
        Assert.Equal(NewKey, Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud));
    }

    [Fact]
    public async Task A_missing_cloud_fallback_turns_fallback_off()
    {
        Assert.True(Store.Find(ServiceFactory.TeamA, Provider.ComfyCloud)!.CloudFallback);
        using var client = Owner();
        var body = await HttpAssert.Json(await client.PutAsync(HttpAssert.StatusPath, Json($$"""{"api_key":"{{NewKey}}"}""")), HttpStatusCode.OK);
        Assert.False(body.GetProperty("cloud_fallback").GetBoolean());
    }

    [Fact]
    public async Task A_replacement_after_a_revoke_is_active_again_and_keeps_created_at()
    {
        var created = Store.Find(ServiceFactory.TeamA, Provider.ComfyCloud)!.CreatedAt;
        using var client = Owner();
        var revoked = await HttpAssert.Json(await client.DeleteAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        Assert.Equal("revoked", revoked.GetProperty("credential_status").GetString());
        Assert.False(revoked.GetProperty("cloud_fallback").GetBoolean());
        Assert.Equal("comfyui-...89ab", revoked.GetProperty("key_preview").GetString());
        Assert.Null(Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud));

        var replaced = await HttpAssert.Json(await client.PutAsync(HttpAssert.StatusPath, Json(Body(fallback: true))), HttpStatusCode.OK);
        Assert.Equal("active", replaced.GetProperty("credential_status").GetString());
        Assert.True(replaced.GetProperty("cloud_fallback").GetBoolean());
        Assert.Equal(ContractTime.Format(created),
            replaced.GetProperty("created_at").GetString());
    }

    [Fact]
    public async Task Delete_answers_404_where_nothing_is_configured()
    {
        using var teamB = _app.ClientWith(TestKeys.Hs256(TestUsers.OtherTeamOwner), ServiceFactory.TeamB);
        await HttpAssert.Error(await teamB.DeleteAsync(HttpAssert.StatusPath), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_second_delete_answers_as_the_first()
    {
        using var device = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Dk));
        var first = await (await device.DeleteAsync(HttpAssert.StatusPath)).Content.ReadAsStringAsync();
        var second = await HttpAssert.Json(await device.DeleteAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        Assert.Equal(first, second.GetRawText());
    }

    [Fact]
    public async Task Every_change_is_in_the_audit_trail_with_who_and_the_preview_and_never_the_key()
    {
        var dk = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Dk);
        using (var owner = Owner())
        {
            await owner.PutAsync(HttpAssert.StatusPath, Json(Body()));
        }
        using (var device = _app.ClientWith(dk))
        {
            await device.DeleteAsync(HttpAssert.StatusPath);
            await device.DeleteAsync(HttpAssert.StatusPath);
        }

        var trail = new AuditTrail(_app.Get<Database>()).List(ServiceFactory.TeamA);
        Assert.Equal(
            [("revoke", "dk", dk[..12], "comfyui-...5432"), ("replace", "jwt", TestUsers.Owner, "comfyui-...5432"), ("set", "cli", "cli", "comfyui-...89ab")],
            trail.Select(e => (e.Action, e.ActorKind, e.Actor, e.KeyPreview!)));
        Assert.All(trail, e => Assert.Equal("comfy_cloud", e.ProviderId));

        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(_app.Folder, "test.db*"))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(NewKey)) < 0);
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(NewKey[8..^4])) < 0);
        }
    }

    [Fact]
    public async Task Concurrent_puts_leave_one_whole_row_from_the_last_writer()
    {
        var keys = Enumerable.Range(0, 24).Select(i => $"comfyui-{i:D4}{new string((char)('a' + i), 60)}").ToArray();
        var responses = await Task.WhenAll(keys.Select(async key =>
        {
            using var client = Owner();
            return await client.PutAsync(HttpAssert.StatusPath, Json(Body(key, fallback: key[^1] % 2 == 0)));
        }));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var stored = Store.ReadKey(ServiceFactory.TeamA, Provider.ComfyCloud)!;
        Assert.Contains(stored, keys);
        var status = Store.Find(ServiceFactory.TeamA, Provider.ComfyCloud)!;
        Assert.Equal(KeyPreview.For(stored), status.KeyPreview);
        Assert.Equal(stored[^1] % 2 == 0, status.CloudFallback);
        var trail = new AuditTrail(_app.Get<Database>()).List(ServiceFactory.TeamA);
        Assert.Equal(keys.Length + 1, trail.Count);
        Assert.Equal(status.KeyPreview, trail[0].KeyPreview);
    }

    [Fact]
    [Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
    public async Task A_database_locked_by_another_writer_gets_503_with_Retry_After_within_a_bounded_time()
    {
        var before = Snapshot();
        using var holder = new SqliteConnection($"Data Source={_app.DatabasePath}");
        holder.Open();
        using var transaction = holder.BeginTransaction(deferred: false);
        using var client = Owner();
        var started = DateTime.UtcNow;
        var response = await client.PutAsync(HttpAssert.StatusPath, Json(Body()));
        var elapsed = DateTime.UtcNow - started;
        await HttpAssert.Error(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"took {elapsed}");

        // Readers are not blocked by the writer: WAL serves them.
        await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        transaction.Rollback();
        Assert.Equal(before, Snapshot());
    }

    public void Dispose() => _app.Dispose();

    /// <summary>A body whose length the client cannot know in advance, so it goes chunked.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
