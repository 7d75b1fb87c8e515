using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Native;

/// <summary>The published AOT executable: seeded through its own command line, called over loopback.</summary>
public sealed partial class NativeBinaryTests : IDisposable
{
    private const string Team = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718293";
    private const string OtherTeam = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718294";
    private const string Status = HttpAssert.StatusPath;

    private readonly NativeBinary _bin = new();

    [GeneratedRegex("^(sk|dk)-[0-9A-Za-z]{43}$")]
    private static partial Regex KeyFormat();

    private (string Sk, string Dk) SeedTeam()
    {
        Assert.Equal(Team + "\n", _bin.Ok("team", "add", Team, "--name", "Acme"));
        _bin.Ok("team", "add", OtherTeam);
        _bin.Ok("member", "add", Team, TestUsers.Owner, "--role", "owner");
        _bin.Ok("member", "add", Team, "vera", "--role", "viewer");
        var sk = _bin.Ok("key", "create", Team, "--kind", "sk", "--name", "runtime").TrimEnd('\n');
        var dk = _bin.Ok("key", "create", Team, "--kind", "dk").TrimEnd('\n');
        Assert.Matches(KeyFormat(), sk);
        Assert.Matches(KeyFormat(), dk);
        _bin.OkWithInput(ServiceFactory.ComfyKey + "\n", "credential", "set", Team, "--cloud-fallback");
        return (sk, dk);
    }

    [Fact]
    public async Task The_binary_serves_the_status_the_command_line_seeded()
    {
        var (sk, dk) = SeedTeam();
        var shown = _bin.Ok("credential", "show", Team).TrimEnd('\n');
        Assert.Contains("\"key_preview\":\"comfyui-...89ab\"", shown, StringComparison.Ordinal);
        Assert.Contains("\"cloud_fallback\":true", shown, StringComparison.Ordinal);

        var server = await _bin.ServeAsync();
        foreach (var (token, team) in new[] { (sk, (string?)null), (dk, OtherTeam), (TestKeys.Hs256(TestUsers.Owner), Team), (TestKeys.Hs256("vera"), Team) })
        {
            using var client = server.Client(token, team);
            var response = await client.GetAsync(Status);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.ToString());
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            Assert.Equal(shown, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task The_binary_serves_the_committed_API_description_to_anyone()
    {
        var server = await _bin.ServeAsync();
        using var anonymous = server.Client();
        var response = await anonymous.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(File.ReadAllBytes(System.IO.Path.Combine(Repository.Root, "docs", "openapi", "v1.json")), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task The_binary_answers_every_error_in_the_contract_shape()
    {
        SeedTeam();
        var server = await _bin.ServeAsync();
        using var anonymous = server.Client();
        await HttpAssert.Error(await anonymous.GetAsync(Status), HttpStatusCode.Unauthorized);
        await HttpAssert.Error(await anonymous.GetAsync("/api/v1/nothing-here"), HttpStatusCode.NotFound);
        var wrongMethod = await anonymous.PostAsync(Status, new StringContent("{}", Encoding.UTF8, "application/json"));
        await HttpAssert.Error(wrongMethod, HttpStatusCode.MethodNotAllowed);
        Assert.Contains("GET", wrongMethod.Content.Headers.Allow);

        using var noTeam = server.Client(TestKeys.Hs256(TestUsers.Owner));
        await HttpAssert.Error(await noTeam.GetAsync(Status), HttpStatusCode.BadRequest);
        using var stranger = server.Client(TestKeys.Hs256("mallory"), Team);
        await HttpAssert.Error(await stranger.GetAsync(Status), HttpStatusCode.Forbidden);
        using var otherTeam = server.Client(_bin.Ok("key", "create", OtherTeam, "--kind", "sk").TrimEnd('\n'));
        await HttpAssert.Error(await otherTeam.GetAsync(Status), HttpStatusCode.NotFound);

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task What_the_command_line_writes_the_running_server_sees_at_the_next_request()
    {
        var (sk, dk) = SeedTeam();
        var server = await _bin.ServeAsync();
        using var reader = server.Client(sk);
        using var viewer = server.Client(TestKeys.Hs256("vera"), Team);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(Status)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync(Status)).StatusCode);

        var revoked = _bin.Ok("credential", "revoke", Team);
        Assert.Contains("\"credential_status\":\"revoked\"", revoked, StringComparison.Ordinal);
        var body = await HttpAssert.Json(await reader.GetAsync(Status), HttpStatusCode.OK);
        // Another process's change: seen at the next request on SQLite, within the notification's
        // latency on PostgreSQL (asked again for 10 s at most).
        for (var clock = System.Diagnostics.Stopwatch.StartNew();
            TestEngine.Postgres && body.GetProperty("credential_status").GetString() != "revoked" && clock.Elapsed < TimeSpan.FromSeconds(10);)
        {
            await Task.Delay(20);
            body = await HttpAssert.Json(await reader.GetAsync(Status), HttpStatusCode.OK);
        }
        Assert.Equal("revoked", body.GetProperty("credential_status").GetString());
        Assert.False(body.GetProperty("cloud_fallback").GetBoolean());
        Assert.Equal("comfyui-...89ab", body.GetProperty("key_preview").GetString());

        _bin.Ok("key", "revoke", sk[..12]);
        await HttpAssert.Error(await HttpAssert.AfterChange(() => reader.GetAsync(Status), HttpStatusCode.Unauthorized), HttpStatusCode.Unauthorized);
        using var device = server.Client(dk);
        Assert.Equal(HttpStatusCode.OK, (await device.GetAsync(Status)).StatusCode);

        _bin.Ok("member", "remove", Team, "vera");
        await HttpAssert.Error(await HttpAssert.AfterChange(() => viewer.GetAsync(Status), HttpStatusCode.Forbidden), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task The_binary_sets_and_revokes_the_key_over_http_and_audit_prints_the_trail_newest_first()
    {
        var (sk, dk) = SeedTeam();
        var server = await _bin.ServeAsync();
        const string newKey = "comfyui-fedcba9876543210fedcba9876543210fedcba9876543210fedcba98765432";
        static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

        using var owner = server.Client(TestKeys.Hs256(TestUsers.Owner), Team);
        var put = await owner.PutAsync(Status, Json($$"""{"api_key":"{{newKey}}","cloud_fallback":false}"""));
        var body = await HttpAssert.Json(put, HttpStatusCode.OK);
        Assert.Equal("comfyui-...5432", body.GetProperty("key_preview").GetString());
        Assert.Equal(_bin.Ok("credential", "show", Team).TrimEnd('\n'), await owner.GetStringAsync(Status));

        using var reader = server.Client(sk);
        await HttpAssert.Error(await reader.PutAsync(Status, Json($$"""{"api_key":"{{newKey}}"}""")), HttpStatusCode.Forbidden);
        await HttpAssert.Error(await owner.PutAsync(Status, new StringContent("{}", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType);
        await HttpAssert.Error(await owner.PutAsync(Status, Json(new string(' ', 20_000))), HttpStatusCode.RequestEntityTooLarge);
        await HttpAssert.Error(await owner.PutAsync(Status, Json("""{"api_key":""}""")), HttpStatusCode.BadRequest);

        using var device = server.Client(dk);
        var revoked = await HttpAssert.Json(await device.DeleteAsync(Status), HttpStatusCode.OK);
        Assert.Equal("revoked", revoked.GetProperty("credential_status").GetString());

        var trail = _bin.Ok("audit", Team).TrimEnd('\n').Split('\n').Select(l => l.Split('\t')).ToList();
        Assert.Equal(
            [["comfy_cloud", "revoke", "dk", dk[..12], "comfyui-...5432"], ["comfy_cloud", "replace", "jwt", TestUsers.Owner, "comfyui-...5432"], ["comfy_cloud", "set", "cli", "cli", "comfyui-...89ab"]],
            trail.Select(fields => fields[1..6]));
        Assert.All(trail, fields => Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", fields[0]));
        Assert.Single(_bin.Ok("audit", Team, "--limit", "1").TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain(newKey, _bin.Ok("audit", Team), StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_SIGTERM_readiness_turns_503_at_once_requests_are_still_served_and_the_process_exits_0()
    {
        var (sk, _) = SeedTeam();
        _bin.Environment["Shutdown__DrainSeconds"] = "2";
        var server = await _bin.ServeAsync();
        using var client = server.Client(sk);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        server.Terminate();
        // Readiness turns as soon as the signal is handled; poll briefly rather than guess how long that takes.
        var ready = await client.GetAsync("/readyz");
        var readinessProbes = 2;
        for (var attempt = 0; attempt < 50 && ready.StatusCode == HttpStatusCode.OK; attempt++)
        {
            await Task.Delay(20);
            ready = await client.GetAsync("/readyz");
            readinessProbes++;
        }
        await HttpAssert.Error(ready, HttpStatusCode.ServiceUnavailable);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1.5), $"readiness took {stopwatch.Elapsed} to turn");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Status)).StatusCode);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await server.Process.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, server.Process.ExitCode);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(12));
        // The log is written in batches; stopping writes out the last of them, so no line is lost.
        var lines = server.Output.Split('\n');
        Assert.Equal(readinessProbes, lines.Count(line => line.Contains("] GET /readyz ", StringComparison.Ordinal)));
        Assert.Single(lines, line => line.Contains($"] GET {Status} 200 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_the_json_formatter_every_log_line_is_one_json_object_and_requests_are_logged_without_secrets()
    {
        var (sk, _) = SeedTeam();
        _bin.Environment["Logging__Console__FormatterName"] = "json";
        var server = await _bin.ServeAsync();
        using (var client = server.Client(sk))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Status);
            request.Headers.Add("X-Request-ID", "native-trace-1");
            var response = await client.SendAsync(request);
            Assert.Equal("native-trace-1", Assert.Single(response.Headers.GetValues("X-Request-ID")));
        }
        server.Terminate();
        await server.Process.WaitForExitAsync();
        await Task.Delay(100);
        var lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEmpty(lines);
        var requestLines = new List<System.Text.Json.JsonElement>();
        foreach (var line in lines)
        {
            using var json = System.Text.Json.JsonDocument.Parse(line);
            if (json.RootElement.GetProperty("Category").GetString() == "CloudProviders.Requests"
                && json.RootElement.GetProperty("State").GetProperty("Path").GetString() == Status)
            {
                requestLines.Add(json.RootElement.Clone());
            }
        }
        var logged = Assert.Single(requestLines);
        var state = logged.GetProperty("State");
        Assert.Equal("GET", state.GetProperty("Method").GetString());
        Assert.Equal(Status, state.GetProperty("Path").GetString());
        Assert.Equal("200", state.GetProperty("StatusCode").ToString());
        Assert.Equal("sk", state.GetProperty("CallerKind").GetString());
        Assert.Equal("native-trace-1", state.GetProperty("RequestId").GetString());
        Assert.DoesNotContain(sk[12..], server.Output, StringComparison.Ordinal);
    }

    [Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
    [Fact]
    public async Task A_read_only_replica_process_sees_the_writers_changes_and_refuses_writes()
    {
        var (_, dk) = SeedTeam();
        _bin.Environment["Database__ReadOnly"] = "true";
        var replica = await _bin.ServeAsync();
        _bin.Environment.Remove("Database__ReadOnly");
        using var device = replica.Client(dk);
        Assert.Equal(HttpStatusCode.OK, (await device.GetAsync(Status)).StatusCode);

        _bin.Ok("credential", "revoke", Team);
        var body = await HttpAssert.Json(await device.GetAsync(Status), HttpStatusCode.OK);
        Assert.Equal("revoked", body.GetProperty("credential_status").GetString());
        var put = await device.PutAsync(Status, new StringContent("""{"api_key":"comfyui-from-replica-0000000"}""", Encoding.UTF8, "application/json"));
        await HttpAssert.Error(put, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(HttpStatusCode.OK, (await device.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public void Encryption_rotate_re_encrypts_every_key_under_the_new_master_key_in_one_transaction()
    {
        SeedTeam();
        _bin.Ok("team", "add", "0190d9b8-7c1e-7a2b-9c3d-4e5f60718295");
        _bin.OkWithInput("comfyui-second-team-key-0000000000\n", "credential", "set", "0190d9b8-7c1e-7a2b-9c3d-4e5f60718295");
        var shown = _bin.Ok("credential", "show", Team);
        var next = System.IO.Path.Combine(_bin.Folder, "next.key");
        var third = System.IO.Path.Combine(_bin.Folder, "third.key");
        File.WriteAllText(next, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        File.WriteAllText(third, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));

        Assert.StartsWith("Re-encrypted 2 key(s).", _bin.Ok("encryption", "rotate", "--new-key-file", next), StringComparison.Ordinal);

        // The old master key is no longer the database's: every command with it is refused, and changes nothing.
        var refused = _bin.Run("encryption", "rotate", "--new-key-file", third);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("nothing was changed", refused.Stderr, StringComparison.Ordinal);

        // The new one opens them.
        _bin.Environment["Encryption__KeyFile"] = next;
        Assert.Equal(shown, _bin.Ok("credential", "show", Team));
        Assert.StartsWith("Re-encrypted 2 key(s).", _bin.Ok("encryption", "rotate", "--new-key-file", third), StringComparison.Ordinal);
        var badKey = System.IO.Path.Combine(_bin.Folder, "bad.key");
        File.WriteAllText(badKey, "not base64");
        Assert.NotEqual(0, _bin.Run("encryption", "rotate", "--new-key-file", badKey).ExitCode);
    }

    [Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
    [Fact]
    public void An_unwritable_database_directory_stops_the_server_with_one_clear_line()
    {
        var result = _bin.RunExactly(null, "serve", "--db", "/proc/cloud-providers-test.db", "--urls", "http://127.0.0.1:1");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("error: The database directory /proc is not writable (Database:ReadOnly=true serves a replica read-only).", result.Stderr.Trim());
    }

    [Fact]
    public async Task A_burst_of_thousands_of_concurrent_mixed_requests_gets_no_5xx_and_drops_no_connection()
    {
        var (sk, dk) = SeedTeam();
        var server = await _bin.ServeAsync();
        var jwt = TestKeys.Hs256(TestUsers.Owner);
        var callers = new (string? Token, string? Team, HttpStatusCode Expected)[]
        {
            (sk, null, HttpStatusCode.OK),
            (dk, OtherTeam, HttpStatusCode.OK),
            (jwt, Team, HttpStatusCode.OK),
            (jwt, null, HttpStatusCode.BadRequest),
            (TestKeys.Hs256("mallory"), Team, HttpStatusCode.Forbidden),
            ("sk-" + new string('x', 43), null, HttpStatusCode.Unauthorized),
            (jwt[..^3] + "AAA", Team, HttpStatusCode.Unauthorized),
            ("garbage", null, HttpStatusCode.Unauthorized),
            (null, null, HttpStatusCode.Unauthorized),
        };
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256 };
        using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var gate = new SemaphoreSlim(256);
        const int total = 4000;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, total).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var (token, team, expected) = callers[i % callers.Length];
                using var request = new HttpRequestMessage(HttpMethod.Get, Status);
                if (token is not null)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
                }
                if (team is not null)
                {
                    request.Headers.TryAddWithoutValidation("X-Team-ID", team);
                }
                using var response = await client.SendAsync(request);
                if (response.StatusCode != expected)
                {
                    failures.Add($"{i}: {(int)response.StatusCode}, expected {(int)expected}");
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                failures.Add($"{i}: {e.GetType().Name} {e.Message}");
            }
            finally
            {
                gate.Release();
            }
        }));
        Assert.Empty(failures);
        Assert.False(server.Process.HasExited);
    }

    [Fact]
    public async Task Oversized_headers_and_request_lines_get_Kestrels_4xx_and_the_server_stays_up()
    {
        SeedTeam();
        var server = await _bin.ServeAsync();
        using var client = server.Client();
        using (var request = new HttpRequestMessage(HttpMethod.Get, Status))
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + new string('a', 64 * 1024));
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, (await client.SendAsync(request)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.RequestUriTooLong, (await client.GetAsync(Status + "?" + new string('q', 16 * 1024))).StatusCode);
        using (var request = new HttpRequestMessage(HttpMethod.Get, Status))
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + TestKeys.Hs256(TestUsers.Owner) + new string('A', 9000));
            request.Headers.TryAddWithoutValidation("X-Team-ID", Team);
            await HttpAssert.Error(await client.SendAsync(request), HttpStatusCode.Unauthorized);
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Raw_header_attacks_get_401_or_400_and_the_server_stays_up()
    {
        var (sk, _) = SeedTeam();
        var server = await _bin.ServeAsync();
        var jwt = TestKeys.Hs256(TestUsers.Owner);

        // Two Authorization headers, one of them valid: ambiguous, so refused.
        Assert.StartsWith("HTTP/1.1 401", await Raw(server, $"Authorization: Bearer {sk}\r\nAuthorization: Bearer garbage\r\n"), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 401", await Raw(server, $"Authorization: Bearer {sk}\r\nAuthorization: Bearer {sk}\r\n"), StringComparison.Ordinal);
        // Tabs and extra spaces around the token.
        Assert.StartsWith("HTTP/1.1 401", await Raw(server, $"Authorization: Bearer\t{sk}\r\n"), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 401", await Raw(server, $"Authorization: Bearer  {sk}\r\n"), StringComparison.Ordinal);
        // A team header of non-UTF-8 bytes: Kestrel refuses the request itself.
        var bytes = await Raw(server, $"Authorization: Bearer {jwt}\r\nX-Team-ID: \u00ff\u00fe{Team}\r\n", latin1: true);
        Assert.StartsWith("HTTP/1.1 400", bytes, StringComparison.Ordinal);
        // A team header repeated: 400 with our body.
        Assert.StartsWith("HTTP/1.1 400", await Raw(server, $"Authorization: Bearer {jwt}\r\nX-Team-ID: {Team}\r\nX-Team-ID: {Team}\r\n"), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200", await Raw(server, $"Authorization: Bearer {jwt}\r\nX-Team-ID: {Team}\r\n"), StringComparison.Ordinal);
        Assert.False(server.Process.HasExited);
    }

    [Fact]
    public async Task On_one_keep_alive_connection_each_request_is_judged_by_its_own_token()
    {
        var (sk, dk) = SeedTeam();
        var server = await _bin.ServeAsync();
        using var connection = new System.Net.Sockets.TcpClient();
        await connection.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        var stream = connection.GetStream();
        async Task<int> Get(string token, string? team = null)
        {
            var text = $"GET {Status} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n{(team is null ? "" : $"X-Team-ID: {team}\r\n")}\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(text));
            return await ReadResponseStatus(stream);
        }

        var unknown = sk[..^1] + (sk[^1] == 'A' ? 'B' : 'A');
        var alice = TestKeys.Hs256(TestUsers.Owner);
        // The same token again and again, then others: each answer is the one its own token earns.
        Assert.Equal(200, await Get(sk));
        Assert.Equal(200, await Get(sk));
        Assert.Equal(401, await Get(unknown));
        Assert.Equal(200, await Get(dk, OtherTeam));
        Assert.Equal(200, await Get(sk));
        Assert.Equal(200, await Get(alice, Team));
        Assert.Equal(200, await Get(alice, Team));
        Assert.Equal(403, await Get(TestKeys.Hs256("mallory"), Team));
        Assert.Equal(200, await Get(sk));
        // Revoked between two requests that carry the same header: the second one is refused.
        // Another process revokes it, so the server hears of it as any change from elsewhere: at
        // once on SQLite, within the notification's latency on PostgreSQL. Seen on a connection
        // of its own first, so that what is judged below is only the keep-alive connection's memo.
        _bin.Ok("key", "revoke", sk[..12]);
        using (var fresh = server.Client(sk))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while ((await fresh.GetAsync(Status)).StatusCode != HttpStatusCode.Unauthorized)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "The revocation was not heard within 10 s.");
                await Task.Delay(20);
            }
        }
        Assert.Equal(401, await Get(sk));
        Assert.Equal(401, await Get(sk));
        Assert.Equal(200, await Get(alice, Team));
    }

    /// <summary>Reads one response off a keep-alive connection: its head, then its body, sized or chunked.</summary>
    private static async Task<int> ReadResponseStatus(Stream stream)
    {
        async Task<string> Line()
        {
            var line = new List<byte>();
            var one = new byte[1];
            while (line.Count < 2 || line[^2] != '\r' || line[^1] != '\n')
            {
                Assert.Equal(1, await stream.ReadAsync(one));
                line.Add(one[0]);
            }
            return Encoding.ASCII.GetString([.. line])[..^2];
        }

        var status = int.Parse((await Line()).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        int? length = null;
        for (var header = await Line(); header.Length > 0; header = await Line())
        {
            var (name, value) = (header[..header.IndexOf(':')], header[(header.IndexOf(':') + 1)..].Trim());
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        if (length is { } sized)
        {
            await stream.ReadExactlyAsync(new byte[sized]);
            return status;
        }
        for (var chunk = Convert.ToInt32(await Line(), 16); ; chunk = Convert.ToInt32(await Line(), 16))
        {
            await stream.ReadExactlyAsync(new byte[chunk + 2]);
            if (chunk == 0)
            {
                return status;
            }
        }
    }

    private static async Task<string> Raw(NativeBinary.Server server, string headers, bool latin1 = false)
    {
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        var stream = socket.GetStream();
        var text = $"GET {Status} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}\r\n";
        await stream.WriteAsync(latin1 ? Encoding.Latin1.GetBytes(text) : Encoding.UTF8.GetBytes(text));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    [Fact]
    public void The_command_line_lists_keys_and_members_tab_separated()
    {
        var (sk, _) = SeedTeam();
        _bin.Ok("key", "create", Team, "--kind", "sk", "--expires-in", "7");
        _bin.Ok("key", "revoke", sk[..12]);
        var keys = _bin.Ok("key", "list", Team).TrimEnd('\n').Split('\n');
        Assert.Equal(3, keys.Length);
        Assert.All(keys, line => Assert.Equal(7, line.Split('\t').Length));
        var first = keys[0].Split('\t');
        Assert.Equal([sk[..12], "sk", "runtime"], first[..3]);
        Assert.Equal("-", first[4]);
        Assert.Equal("revoked", first[5]);
        Assert.Equal("active", keys[1].Split('\t')[5]);
        Assert.NotEqual("-", keys[2].Split('\t')[4]);
        Assert.DoesNotContain(sk, string.Join('\n', keys), StringComparison.Ordinal);

        var members = _bin.Ok("member", "list", Team).TrimEnd('\n').Split('\n');
        Assert.Equal(["alice\towner", "vera\tviewer"], members.Select(m => string.Join('\t', m.Split('\t')[..2])));
    }

    [Fact]
    public void Bad_input_exits_non_zero_with_one_line_on_stderr_and_changes_nothing()
    {
        SeedTeam();
        var before = (_bin.Ok("key", "list", Team), _bin.Ok("member", "list", Team), _bin.Ok("credential", "show", Team));
        var cases = new (string? Stdin, string[] Args)[]
        {
            (null, ["team", "add", "not-a-uuid"]),
            (null, ["team", "add", Team]),
            (null, ["member", "add", Team, TestUsers.Owner, "--role", "owner"]),
            (null, ["member", "add", Team, "zed", "--role", "superuser"]),
            (null, ["member", "add", "0190d9b8-0000-7a2b-9c3d-4e5f60718293", "zed", "--role", "admin"]),
            (null, ["member", "remove", Team, "nobody"]),
            (null, ["key", "create", "0190d9b8-0000-7a2b-9c3d-4e5f60718293", "--kind", "sk"]),
            (null, ["key", "create", Team, "--kind", "ak"]),
            (null, ["key", "create", Team, "--kind", "sk", "--expires-in", "0"]),
            (null, ["key", "revoke", "sk-000000000"]),
            (null, ["key", "revoke", "nonsense"]),
            ("", ["credential", "set", Team]),
            ("\n", ["credential", "set", Team]),
            ("two\nlines\n", ["credential", "set", Team]),
            (new string('k', 513), ["credential", "set", Team]),
            ("key-for-nobody-000000000", ["credential", "set", "0190d9b8-0000-7a2b-9c3d-4e5f60718293"]),
            (null, ["credential", "show", OtherTeam]),
            (null, ["credential", "set", Team, "--provider", "other-cloud"]),
            (null, ["bogus"]),
            (null, ["audit", "not-a-uuid"]),
            (null, ["audit", Team, "--limit", "0"]),
        };
        foreach (var (stdin, args) in cases)
        {
            var result = _bin.RunWithInput(stdin, args);
            Assert.True(result.ExitCode != 0, $"{string.Join(' ', args)} should fail");
            var line = Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
            Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        }
        Assert.Equal(before, (_bin.Ok("key", "list", Team), _bin.Ok("member", "list", Team), _bin.Ok("credential", "show", Team)));
    }

    [Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
    [Fact]
    public void The_key_is_encrypted_at_rest_and_the_development_master_key_file_is_private()
    {
        var (sk, dk) = SeedTeam();
        var keyFile = _bin.DatabasePath + ".key";
        Assert.True(File.Exists(keyFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));

        _bin.Ok("credential", "show", Team);
        foreach (var file in Directory.GetFiles(_bin.Folder, "native.db*").Where(f => !f.EndsWith(".key", StringComparison.Ordinal)))
        {
            var bytes = File.ReadAllBytes(file);
            foreach (var secret in new[] { ServiceFactory.ComfyKey, ServiceFactory.ComfyKey[8..^4], sk, sk[12..], dk })
            {
                Assert.True(IndexOf(bytes, Encoding.UTF8.GetBytes(secret)) < 0, $"{System.IO.Path.GetFileName(file)} holds a secret in plain form");
            }
        }
    }

    [Fact]
    public void The_version_prints_and_exits_zero()
    {
        var result = _bin.RunExactly(null, "--version");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", result.Stdout);
    }

    [Fact]
    public void A_configuration_error_stops_the_server_with_one_line_and_a_non_zero_exit()
    {
        _bin.Environment["Jwt__SigningKey"] = "short";
        var result = _bin.Run("serve", "--urls", "http://127.0.0.1:1");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("error: Jwt:SigningKey must be at least 32 bytes of UTF-8.", result.Stderr.Trim());
    }

    [Fact]
    public async Task The_demo_prints_curl_commands_that_work_and_can_run_again()
    {
        _bin.Environment.Remove("Jwt__SigningKey");
        _bin.Environment.Remove("Jwt__Issuer");
        _bin.Environment.Remove("Jwt__Audience");
        for (var run = 0; run < 2; run++)
        {
            var server = await _bin.ServeAsync("demo", output => output.Contains("Without a token", StringComparison.Ordinal));
            var commands = server.Output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("curl ", StringComparison.Ordinal)).ToList();
            Assert.Equal(6, commands.Count);
            var results = new List<string>();
            foreach (var command in commands)
            {
                var (status, body) = await Curl(server, command);
                if (command.Contains("Authorization", StringComparison.Ordinal))
                {
                    Assert.True(status == HttpStatusCode.OK, $"{command} -> {(int)status} {body}");
                    Assert.Contains("\"provider_name\":\"comfy_cloud\"", body, StringComparison.Ordinal);
                    results.Add(body);
                }
                else
                {
                    Assert.Equal(HttpStatusCode.Unauthorized, status);
                }
            }
            Assert.Contains("\"cloud_fallback\":true", results[3], StringComparison.Ordinal);
            Assert.Contains("\"credential_status\":\"revoked\"", results[4], StringComparison.Ordinal);
            server.Process.Kill();
            await server.Process.WaitForExitAsync();
        }
    }

    /// <summary>Does what a printed <c>curl -i [-X METHOD] URL -H '...' [-d '...']</c> line does.</summary>
    private static async Task<(HttpStatusCode, string)> Curl(NativeBinary.Server server, string command)
    {
        var match = Regex.Match(command, @"^curl -i (?:-X (\w+) )?(\S+)((?: -H '[^']*')*)(?: -d '([^']*)')?$");
        Assert.True(match.Success, $"Unexpected curl line: {command}");
        var url = new Uri(match.Groups[2].Value);
        Assert.Equal(server.BaseAddress.Port, url.Port);
        using var client = new HttpClient();
        var method = match.Groups[1].Success ? new HttpMethod(match.Groups[1].Value) : HttpMethod.Get;
        using var request = new HttpRequestMessage(method, url);
        var headers = Regex.Matches(match.Groups[3].Value, @"-H '([^:]+): ([^']*)'").ToDictionary(h => h.Groups[1].Value, h => h.Groups[2].Value);
        if (match.Groups[4].Success)
        {
            request.Content = new StringContent(match.Groups[4].Value, Encoding.UTF8);
            request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(headers["Content-Type"]);
        }
        foreach (var (name, value) in headers.Where(h => h.Key != "Content-Type"))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);

    public void Dispose() => _bin.Dispose();
}
