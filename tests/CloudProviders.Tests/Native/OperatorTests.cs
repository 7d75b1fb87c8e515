using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CloudProviders.Tests.Support;
using Microsoft.Data.Sqlite;

namespace CloudProviders.Tests.Native;

/// <summary>
/// The published binary in the hands of an operator who mistypes and of a device that lies: a
/// strict command line, start-up that checks everything before it touches a file, output that no
/// stored or requested value can forge, and one master key per database.
/// </summary>
[Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
public sealed class OperatorTests : IDisposable
{
    private const string Team = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718293";
    private const string OtherTeam = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718294";

    private readonly NativeBinary _bin = new();

    private string Seed()
    {
        _bin.Ok("team", "add", Team);
        _bin.Ok("member", "add", Team, TestUsers.Owner, "--role", "owner");
        var dk = _bin.Ok("key", "create", Team, "--kind", "dk").TrimEnd('\n');
        _bin.OkWithInput(ServiceFactory.ComfyKey + "\n", "credential", "set", Team);
        return dk;
    }

    private (string, string, string, string) State() =>
        (_bin.Ok("key", "list", Team), _bin.Ok("member", "list", Team), _bin.Ok("credential", "show", Team), _bin.Ok("audit", Team));

    [Theory]
    [InlineData("--expires", "key", "create", Team, "--kind", "dk", "--expires", "5")]
    [InlineData("--cloud-fallbak", "credential", "set", Team, "--cloud-fallbak")]
    [InlineData(TestUsers.Member, "member", "remove", Team, TestUsers.Owner, TestUsers.Member)]
    [InlineData("--nme", "team", "add", OtherTeam, "--nme", "x")]
    [InlineData("extra", "key", "list", Team, "extra")]
    [InlineData("--limt", "audit", Team, "--limt", "3")]
    [InlineData("now", "migrate", "now")]
    [InlineData("--Jwt:Issuer", "team", "add", OtherTeam, "--Jwt:Issuer", "x")]
    [InlineData("--environment", "team", "add", OtherTeam, "--environment", "Development")]
    [InlineData("rmove", "member", "rmove", Team, TestUsers.Owner)]
    [InlineData("tema", "tema", "add", OtherTeam)]
    [InlineData("not-a-number", "key", "create", Team, "--kind", "sk", "--expires-in", "not-a-number")]
    [InlineData("366", "key", "create", Team, "--kind", "sk", "--expires-in", "366")]
    [InlineData("superuser", "member", "add", Team, "zed", "--role", "superuser")]
    [InlineData("--bogus", "serve", "--bogus")]
    [InlineData("extra", "demo", "extra")]
    public void An_unknown_option_or_extra_argument_exits_2_with_one_line_that_names_it_and_changes_nothing(string named, params string[] args)
    {
        Seed();
        var before = State();
        var result = _bin.RunWithInput("comfyui-another-key-000000000000\n", args);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"'{named}'", result.OneErrorLine(), StringComparison.Ordinal);
        Assert.Equal(before, State());
    }

    [Theory]
    [InlineData("--expires-in", "key", "create", Team, "--kind", "dk", "--expires", "5")]
    [InlineData("--cloud-fallback", "credential", "set", Team, "--cloud-fallbak")]
    [InlineData("remove", "member", "rmove", Team, TestUsers.Owner)]
    [InlineData("team", "tema", "add", OtherTeam)]
    [InlineData("owner", "member", "add", Team, "zed", "--role", "ownr")]
    [InlineData("--name", "key", "create", Team, "--kind", "sk", "--nmae", "x")]
    public void A_near_miss_says_which_option_or_verb_was_meant(string meant, params string[] args)
    {
        var result = _bin.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"Did you mean '{meant}'?", result.OneErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public void Configuration_arguments_and_ASPNETCORE_variables_reach_every_admin_command()
    {
        var other = Path.Combine(_bin.Folder, "other.db");
        _bin.RunExactly(null, "team", "add", Team, $"--Database:Path={other}");
        Assert.True(File.Exists(other));
        Assert.False(File.Exists(_bin.DatabasePath));

        _bin.Environment["ASPNETCORE_Database__Path"] = other;
        Assert.Equal(0, _bin.RunExactly(null, "key", "list", Team).ExitCode);
        var typo = _bin.RunExactly(null, "key", "list", Team, "--Jwt:SigningKy=x");
        Assert.Equal(1, typo.ExitCode);
        Assert.Contains("Did you mean Jwt:SigningKey?", typo.OneErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_usage_line_has_balanced_brackets()
    {
        string[][] verbs = [[], ["serve"], ["demo"], ["migrate"], ["team", "add"], ["team", "list"], ["team", "remove"], ["member", "add"], ["member", "remove"], ["member", "list"],
            ["key", "create"], ["key", "list"], ["key", "revoke"], ["credential", "set"], ["credential", "test"], ["credential", "revoke"], ["credential", "show"],
            ["audit"], ["encryption", "rotate"]];
        foreach (var verb in verbs)
        {
            var help = _bin.RunExactly(null, [.. verb, "--help"]);
            Assert.Equal(0, help.ExitCode);
            var lines = help.Stdout.Split('\n');
            var usage = lines[Array.FindIndex(lines, l => l.StartsWith("Usage:", StringComparison.Ordinal)) + 1];
            foreach (var (open, close) in new[] { ('[', ']'), ('<', '>'), ('(', ')') })
            {
                var depth = 0;
                foreach (var c in usage)
                {
                    depth += c == open ? 1 : c == close ? -1 : 0;
                    Assert.True(depth >= 0, $"unbalanced {close} in: {usage}");
                }
                Assert.True(depth == 0, $"unbalanced {open} in: {usage}");
            }
        }
    }

    public static TheoryData<string, string, string> BadSettings() => new()
    {
        { "urls", "http://127.0.0.1:notaport", "port" },
        { "urls", "http://127.0.0.1:", "port" },
        { "urls", "18080", "http://" },
        { "urls", "http://127.0.0.1:99999", "port" },
        { "urls", "ftp://127.0.0.1:8080", "http://" },
        { "urls", "http://127.0.0.1", "no port" },
        { "urls", "http://127.0.0.l:8080", "every interface" },
        { "urls", "http://127.0.0.1:8080/base", "path" },
        { "ASPNETCORE_URLS", "http://127.0.0.1:x", "port" },
        { "ASPNETCORE_HTTP_PORTS", "80a", "port" },
        { "Jwt__SigningKy", "x", "Did you mean Jwt:SigningKey?" },
        { "Database__Pth", "x.db", "Did you mean Database:Path?" },
        { "Encryption__KeyFle", "x", "Did you mean Encryption:KeyFile?" },
        { "Shutdown__DrainSecond", "1", "Did you mean Shutdown:DrainSeconds?" },
        { "Jwt__Audience", "", "empty" },
        { "Database__ReadOnly", "maybe", "true or false" },
        { "Shutdown__TimeoutSeconds", "ten", "whole number" },
        { "Encryption__Key", "not-base64", "base64" },
        { "Encryption__KeyFile", "/no/such/folder/master.key", "folder /no/such/folder does not exist" },
        { "Jwt__PublicKeysFile", "/no/such/idp.pem", "idp.pem" },
        { "Logging__LogLevel__Default", "Loud", "log level" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void A_bad_setting_stops_the_start_with_one_plain_line_and_leaves_no_file_behind(string variable, string value, string says)
    {
        _bin.Environment[variable] = value;
        var result = variable == "urls" ? _bin.RunExactly(null, "serve", "--db", _bin.DatabasePath, "--urls", value)
            : variable.StartsWith("ASPNETCORE_", StringComparison.Ordinal) ? _bin.RunExactly(null, "serve", "--db", _bin.DatabasePath)
            : _bin.RunExactly(null, "serve", "--db", _bin.DatabasePath, "--urls", "http://127.0.0.1:1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(says, result.OneErrorLine(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_bin.Folder));
    }

    [Fact]
    public void Issuer_without_a_key_an_empty_db_and_a_folder_as_the_database_are_refused()
    {
        _bin.Environment.Remove("Jwt__SigningKey");
        var issuerOnly = _bin.RunExactly(null, "serve", "--db", _bin.DatabasePath);
        Assert.Equal(1, issuerOnly.ExitCode);
        Assert.Contains("no JWT key is", issuerOnly.OneErrorLine(), StringComparison.Ordinal);
        _bin.Environment["Jwt__SigningKey"] = TestKeys.Secret;

        var empty = _bin.RunExactly(null, "team", "add", Team, "--db", "");
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("Database:Path is set but empty", empty.OneErrorLine(), StringComparison.Ordinal);

        var folder = _bin.RunExactly(null, "migrate", "--db", _bin.Folder);
        Assert.Equal(1, folder.ExitCode);
        Assert.Contains("is a folder", folder.OneErrorLine(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_bin.Folder));
    }

    [Fact]
    public void A_port_in_use_exits_1_with_one_line_that_says_how_to_choose_another()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var result = _bin.Run("serve", "--urls", $"http://127.0.0.1:{port}");
        Assert.Equal(1, result.ExitCode);
        var line = result.OneErrorLine();
        Assert.Contains($"127.0.0.1:{port}", line, StringComparison.Ordinal);
        Assert.Contains("--urls", line, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_data_never_forges_a_log_line()
    {
        Seed();
        var server = await _bin.ServeAsync();
        var paths = new[] { "/x%0aforged%20line", "/x%0d%0aforged", "/x%1b%5b2K", "/x%e2%80%a8y%e2%80%a9z", "/x%c2%85y", "/x%7f", "/x%09tab", "/x%e2%80%aeevil" };
        using var client = server.Client();
        foreach (var path in paths)
        {
            await client.GetAsync(path);
        }
        static List<string> Logged(string output) => [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains("GET /x", StringComparison.Ordinal))];
        var lines = Logged(await server.OutputWhenAsync(output => Logged(output).Count >= paths.Length));
        Assert.Equal(paths.Length, lines.Count);
        Assert.All(lines, line => Assert.StartsWith("info: CloudProviders.Requests[1] GET /x", line, StringComparison.Ordinal));
        Assert.All(server.Output.Split('\n'), line => Assert.True(line.All(c => !CloudProviders.Printable.IsUnsafe(c) || c == '\r'), $"unsafe: {line}"));
        Assert.DoesNotContain(server.Output.Split('\n'), line => line.StartsWith("forged", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stored_values_cannot_add_hide_or_rewrite_a_line_of_what_the_command_line_prints()
    {
        var dk = Seed();
        var server = await _bin.ServeAsync();
        using var device = server.Client(dk);
        var forged = await device.PutAsync(HttpAssert.StatusPath, new StringContent(
            """{"api_key":"\u001b[2K\r\n2026-01-01T00:00:00Z\tcomfy_cloud\tset\tcli\tcli\tforged-0000"}""", Encoding.UTF8, "application/json"));
        await HttpAssert.Error(forged, HttpStatusCode.BadRequest);

        // Whatever another writer (or an older version) left in the file prints escaped, one row a line.
        using (var connection = new SqliteConnection($"Data Source={_bin.DatabasePath}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO credential_audit (at, team_id, provider, action, actor_kind, actor, key_preview)
                VALUES (1, $team, 'comfy_cloud', 'set', 'jwt', $evil, $evil);
                INSERT INTO members (team_id, user_id, role, created_at) VALUES ($team, $evil, 'viewer', 1);
                UPDATE api_keys SET name = $evil;
                """;
            command.Parameters.AddWithValue("$team", Team);
            command.Parameters.AddWithValue("$evil", "a\tb\u001b[2K\r\nforged\u2028\u202e\u0085");
            command.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();
        foreach (var (args, fields) in new[] { (new[] { "audit", Team }, 8), (["member", "list", Team], 3), (["key", "list", Team], 7) })
        {
            var output = _bin.Ok(args);
            var lines = output.TrimEnd('\n').Split('\n');
            Assert.All(lines, line => Assert.Equal(fields, line.Split('\t').Length));
            Assert.Contains(@"a\tb\u001b[2K\r\nforged\u2028\u202e\u0085", output, StringComparison.Ordinal);
            Assert.True(output.All(c => c is '\n' or '\t' || !CloudProviders.Printable.IsUnsafe(c)));
        }
    }

    [Fact]
    public void Operator_input_echoed_in_an_error_is_escaped_to_one_printable_line()
    {
        foreach (var args in new[] { new[] { "team", "add", "bad\u001b[2K\nid" }, ["key", "revoke", "sk-\r\nforged"], ["member", "add", Team, "zed", "--role", "own\u001ber"], ["bogus\u202everb"] })
        {
            var result = _bin.Run(args);
            Assert.NotEqual(0, result.ExitCode);
            result.OneErrorLine();
        }
    }

    [Fact]
    public async Task Malformed_chunked_bodies_get_400_and_a_client_that_vanishes_mid_body_is_no_server_error()
    {
        var dk = Seed();
        var server = await _bin.ServeAsync();
        var head = $"PUT {HttpAssert.StatusPath} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {dk}\r\nContent-Type: application/json\r\n";
        foreach (var body in new[] { "FFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n", "5\r\n{\"a\":xx\r\n0\r\n\r\n", "zz\r\n", "-1\r\n{}\r\n0\r\n\r\n" })
        {
            var reply = await Raw(server.BaseAddress, head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body);
            Assert.StartsWith("HTTP/1.1 400 ", reply, StringComparison.Ordinal);
            Assert.Contains("{\"error_message\":", reply, StringComparison.Ordinal);
        }
        await Reset(server.BaseAddress, head + "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"api");
        await Reset(server.BaseAddress, head + "Content-Length: 100\r\n\r\n{\"api");
        await Task.Delay(300);
        Assert.DoesNotContain(" 500 ", server.Output, StringComparison.Ordinal);
        Assert.False(server.Output.Contains("fail:", StringComparison.Ordinal), server.Output);
        Assert.DoesNotContain("   at ", server.Output, StringComparison.Ordinal);
        using var client = server.Client(dk);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(HttpAssert.StatusPath)).StatusCode);
    }

    private static async Task<string> Raw(Uri server, string request)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(server.Host, server.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        return await reader.ReadToEndAsync(timeout.Token);
    }

    /// <summary>Sends part of a request, waits until the server is reading the body, then resets the connection.</summary>
    private static async Task Reset(Uri server, string partial)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Host, server.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(partial));
        await Task.Delay(200);
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    [Fact]
    public void A_master_key_that_is_not_the_databases_is_refused_before_anything_is_written()
    {
        _bin.Ok("team", "add", Team);
        var bytes = DatabaseBytes();
        _bin.Environment["Encryption__Key"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        foreach (var args in new[] { new[] { "team", "add", OtherTeam }, ["member", "add", Team, "zed", "--role", "admin"], ["key", "create", Team, "--kind", "sk"], ["migrate"] })
        {
            var result = _bin.Run(args);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("is not the one", result.OneErrorLine(), StringComparison.Ordinal);
        }
        var refused = _bin.RunWithInput(ServiceFactory.ComfyKey, "credential", "set", Team);
        Assert.Contains("is not the one", refused.OneErrorLine(), StringComparison.Ordinal);
        var serve = _bin.Run("serve", "--urls", "http://127.0.0.1:1");
        Assert.Equal(1, serve.ExitCode);
        Assert.Contains("is not the one", serve.OneErrorLine(), StringComparison.Ordinal);
        Assert.Equal(bytes, DatabaseBytes());
    }

    private string DatabaseBytes() => string.Join(',', Directory.GetFiles(_bin.Folder, "native.db*").Order()
        .Select(f => $"{Path.GetFileName(f)}:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))}"));

    [Fact]
    public async Task A_server_whose_master_key_was_rotated_underneath_refuses_writes_until_it_restarts_with_the_new_key()
    {
        var dk = Seed();
        var server = await _bin.ServeAsync();
        var next = Path.Combine(_bin.Folder, "next.key");
        File.WriteAllText(next, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        File.SetUnixFileMode(next, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.StartsWith("Re-encrypted 1 key(s).", _bin.Ok("encryption", "rotate", "--new-key-file", next), StringComparison.Ordinal);

        using var device = server.Client(dk);
        var body = new StringContent($$"""{"api_key":"{{ServiceFactory.ComfyKey}}"}""", Encoding.UTF8, "application/json");
        await HttpAssert.Error(await device.PutAsync(HttpAssert.StatusPath, body), HttpStatusCode.ServiceUnavailable);
        Assert.Equal(HttpStatusCode.OK, (await device.GetAsync(HttpAssert.StatusPath)).StatusCode);
        Assert.Contains("master key was rotated", await server.OutputWithAsync("master key was rotated"), StringComparison.Ordinal);

        server.Process.Kill();
        await server.Process.WaitForExitAsync();
        _bin.Environment["Encryption__KeyFile"] = next;
        var restarted = await _bin.ServeAsync();
        using var again = restarted.Client(dk);
        body = new StringContent($$"""{"api_key":"{{ServiceFactory.ComfyKey}}"}""", Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.OK, (await again.PutAsync(HttpAssert.StatusPath, body)).StatusCode);
        Assert.Contains("\"key_preview\":\"comfyui-...89ab\"", _bin.Ok("credential", "show", Team), StringComparison.Ordinal);
    }

    [Fact]
    public void The_development_key_lives_beside_the_real_file_and_is_never_generated_for_a_database_that_holds_keys()
    {
        var real = Path.Combine(_bin.Folder, "real");
        Directory.CreateDirectory(real);
        var link = Path.Combine(_bin.Folder, "link.db");
        var target = Path.Combine(real, "native.db");
        Assert.Equal(0, _bin.RunExactly(null, "team", "add", Team, "--db", target).ExitCode);
        File.CreateSymbolicLink(link, target);
        Assert.Equal(0, _bin.RunExactly(ServiceFactory.ComfyKey, "credential", "set", Team, "--db", link).ExitCode);
        Assert.False(File.Exists(link + ".key"));
        Assert.True(File.Exists(target + ".key"));
        Assert.Equal(0, _bin.RunExactly(null, "credential", "show", Team, "--db", target).ExitCode);

        File.Move(target + ".key", Path.Combine(_bin.Folder, "elsewhere.key"));
        foreach (var path in new[] { target, link })
        {
            var result = _bin.RunExactly(null, "serve", "--db", path, "--urls", "http://127.0.0.1:1");
            Assert.Equal(1, result.ExitCode);
            Assert.Contains($"development key file {target}.key does not exist", result.OneErrorLine(), StringComparison.Ordinal);
            Assert.False(File.Exists(target + ".key"));
            Assert.False(File.Exists(link + ".key"));
        }
    }

    [SkippableFact]
    public async Task Key_file_permissions_are_checked_as_ssh_checks_private_keys_and_a_kubernetes_secret_mount_works()
    {
        Skip.IfNot(Environment.UserName == "root", "Needs root, to own the files as a secret mount does.");
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var file = Path.Combine(_bin.Folder, "master.key");
        File.WriteAllText(file, key);
        _bin.Environment["Encryption__KeyFile"] = file;

        File.SetUnixFileMode(file, FileModes.GroupWritable);
        var writable = _bin.Run("migrate");
        Assert.Equal(1, writable.ExitCode);
        Assert.Contains("chmod go-w", writable.OneErrorLine(), StringComparison.Ordinal);
        Assert.False(File.Exists(_bin.DatabasePath));

        File.SetUnixFileMode(file, FileModes.OwnerOnly);
        var quiet = _bin.Run("migrate");
        Assert.Equal((0, ""), (quiet.ExitCode, quiet.Stderr));

        Assert.True(ExternalCommand.Succeeds("chown", "4321", file));
        var foreign = _bin.Run("migrate");
        Assert.Equal(0, foreign.ExitCode);
        Assert.Contains("fix it with: chown", foreign.Stderr, StringComparison.Ordinal);

        // Kubernetes: secret/key -> ..data/key, ..data -> ..2026_12_01_00_00_00.1/, files root-owned 0644.
        var mount = Path.Combine(_bin.Folder, "secret");
        var version = Path.Combine(mount, "..2026_12_01_00_00_00.1");
        Directory.CreateDirectory(version);
        File.WriteAllText(Path.Combine(version, "key"), key);
        File.SetUnixFileMode(Path.Combine(version, "key"), FileModes.WorldReadable);
        File.CreateSymbolicLink(Path.Combine(mount, "..data"), "..2026_12_01_00_00_00.1");
        File.CreateSymbolicLink(Path.Combine(mount, "key"), "..data/key");
        _bin.Environment["Encryption__KeyFile"] = Path.Combine(mount, "key");
        var server = await _bin.ServeAsync();
        var warnings = (await server.OutputWithAsync("can be read by every user")).Split('\n').Where(l => l.Contains("can be read by every user", StringComparison.Ordinal)).ToList();
        var warning = Assert.Single(warnings);
        Assert.Contains($"chmod 600 {Path.Combine(version, "key")}", warning, StringComparison.Ordinal);
        _bin.Ok("team", "add", Team);
        File.SetUnixFileMode(Path.Combine(version, "key"), FileModes.ReadOnlyForAll);
        Assert.Equal(0, _bin.Run("key", "list", Team).ExitCode);
    }

    [Fact]
    public async Task Secrets_are_read_bounded_and_a_huge_input_is_refused_without_reading_it_all()
    {
        _bin.Ok("team", "add", Team);
        var big = Path.Combine(_bin.Folder, "big.key");
        using (var stream = File.Create(big))
        {
            stream.SetLength(100L * 1024 * 1024);
        }
        File.SetUnixFileMode(big, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _bin.Environment["Encryption__KeyFile"] = big;
        var keyFile = _bin.Run("key", "list", Team);
        Assert.Contains("more than 4096 bytes", keyFile.OneErrorLine(), StringComparison.Ordinal);
        _bin.Environment.Remove("Encryption__KeyFile");
        var rotate = _bin.Run("encryption", "rotate", "--new-key-file", big);
        Assert.Contains("more than 4096 bytes", rotate.OneErrorLine(), StringComparison.Ordinal);

        var info = new ProcessStartInfo(_bin.Path) { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = _bin.Folder };
        foreach (var arg in new[] { "credential", "set", Team, "--db", _bin.DatabasePath })
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = Task.Run(() =>
        {
            try
            {
                var chunk = new string('k', 1 << 20);
                for (var i = 0; i < 100; i++)
                {
                    process.StandardInput.Write(chunk);
                }
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The command stopped reading, as it should.
            }
        });
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("longer than 512 characters", await stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task At_a_terminal_credential_set_prompts_without_echoing_the_key()
    {
        _bin.Ok("team", "add", Team);
        var info = new ProcessStartInfo("script") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _bin.Folder };
        foreach (var arg in new[] { "-qec", $"{_bin.Path} credential set {Team} --db {_bin.DatabasePath}", "/dev/null" })
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in _bin.Environment)
        {
            info.Environment[name] = value;
        }
        info.Environment["TERM"] = "xterm";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        await Task.Delay(500);
        process.StandardInput.Write(ServiceFactory.ComfyKey + "\r");
        process.StandardInput.Flush();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(15)));
        Assert.Equal(0, process.ExitCode);
        var screen = await stdout;
        Assert.Contains("it is not shown", screen, StringComparison.Ordinal);
        Assert.DoesNotContain(ServiceFactory.ComfyKey, screen, StringComparison.Ordinal);
        Assert.Contains("\"key_preview\":\"comfyui-...89ab\"", _bin.Ok("credential", "show", Team), StringComparison.Ordinal);
    }

    public void Dispose() => _bin.Dispose();
}
