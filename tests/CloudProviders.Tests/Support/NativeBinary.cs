using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CloudProviders.Tests.Support;

/// <summary>
/// The AOT-published executable, run as an operator would: its command line against a real file
/// in a temporary folder, and its server over loopback. In-process tests run on the JIT and
/// cannot see an AOT-only failure; these can.
/// </summary>
public sealed class NativeBinary : IDisposable
{
    private readonly List<Process> _servers = [];
    private readonly List<Server> _logged = [];

    private readonly PostgresTestDatabase? _postgres;

    /// <summary>The build under test: the default one, or in the PostgreSQL run the <c>-p:Postgres=true</c> build on a database of its own.</summary>
    public NativeBinary() : this(Locate("CLOUD_PROVIDERS_BINARY", TestEngine.Postgres ? "publish-postgres" : "publish"), TestEngine.Postgres) { }

    public NativeBinary(string path, bool postgres = false)
    {
        Directory.CreateDirectory(Folder);
        Path = path;
        if (postgres)
        {
            // Instances on a shared database share the operator's master key: there is no development key.
            _postgres = new PostgresTestDatabase();
            var keyFile = System.IO.Path.Combine(Folder, "master.key");
            File.WriteAllText(keyFile, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Environment["Database__Engine"] = "postgres";
            Environment["Database__ConnectionString"] = _postgres.ConnectionString;
            Environment["Encryption__KeyFile"] = keyFile;
        }
    }

    /// <summary>Where the default build is, whichever build this run tests.</summary>
    public static string DefaultPath => Locate("CLOUD_PROVIDERS_DEFAULT_BINARY", "publish");

    /// <summary>The PostgreSQL build (<c>-p:Postgres=true</c>), on SQLite unless told to use its own PostgreSQL database.</summary>
    public static NativeBinary WithPostgres(bool onPostgres = true) => new(Locate("CLOUD_PROVIDERS_POSTGRES_BINARY", "publish-postgres"), onPostgres);

    /// <summary>The fixture's own PostgreSQL database, in the PostgreSQL run; null on SQLite.</summary>
    internal PostgresTestDatabase? Postgres => _postgres;

    /// <summary>Arguments that point a command at this fixture's database: <c>--db</c> for a SQLite file; nothing for PostgreSQL, which the environment names.</summary>
    private string[] DatabaseArguments => _postgres is null ? ["--db", DatabasePath] : [];

    /// <summary>The opt-in build with TLS in process (<c>-p:InProcessTls=true</c>).</summary>
    public static NativeBinary WithTls() => new(Locate("CLOUD_PROVIDERS_TLS_BINARY", "publish-tls"));

    public string Path { get; }

    public string Folder { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cloud-providers-native", Guid.NewGuid().ToString("N"));

    public string DatabasePath => System.IO.Path.Combine(Folder, "native.db");

    /// <summary>Where an HTTPS server's certificate (PEM) is, with its key beside it (<c>.key</c>).</summary>
    public string CertificatePath => System.IO.Path.Combine(Folder, "tls.pem");

    /// <summary>Environment for every run: the test JWT settings, in the <c>__</c> form.</summary>
    public Dictionary<string, string> Environment { get; } = new()
    {
        ["Jwt__Issuer"] = TestKeys.Issuer,
        ["Jwt__Audience"] = TestKeys.Audience,
        ["Jwt__SigningKey"] = TestKeys.Secret,
    };

    /// <summary>Where <c>tests/run.sh</c> publishes, unless the environment variable says otherwise.</summary>
    private static string Locate(string variable, string folder)
    {
        if (System.Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnvironment)
        {
            return System.IO.Path.GetFullPath(fromEnvironment);
        }
        var path = System.IO.Path.Combine(Repository.Root, "artifacts", folder, "cloud-providers");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"No published binary at {path}. Run `bash tests/run.sh`, which publishes it first.");
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        /// <summary>An operator's mistake as the service tells it: one printable line, <c>error: ...</c>, no exception, type name or stack trace anywhere in the output.</summary>
        public string OneErrorLine()
        {
            var line = Assert.Single(Stderr.TrimEnd('\n').Split('\n'));
            Assert.StartsWith("error: ", line, StringComparison.Ordinal);
            Assert.DoesNotContain("Exception", Stderr + Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("System.", Stderr + Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("SQLite Error", Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", Stderr + Stdout, StringComparison.Ordinal);
            Assert.True(line.All(c => c >= ' ' && c != '\u007f'), $"not printable: {line}");
            return line;
        }

        /// <summary>Exit code 1 and one error line that says this.</summary>
        public void AssertOneError(string says)
        {
            Assert.Equal(1, ExitCode);
            Assert.Contains(says, OneErrorLine(), StringComparison.Ordinal);
        }
    }

    /// <summary>Runs one command to completion, pointed at this fixture's database.</summary>
    public Result RunWithInput(string? stdin, params string[] args) => RunExactly(stdin, [.. args, .. DatabaseArguments]);

    public Result Run(params string[] args) => RunWithInput(null, args);

    private static void IgnoringBrokenPipe(Action write)
    {
        try
        {
            write();
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Runs the executable with exactly these arguments.</summary>
    public Result RunExactly(string? stdin, params string[] args)
    {
        using var process = Start(args, redirectInput: true);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // A command that refuses its arguments exits before it reads its input: its exit code and
        // output below say so, and the pipe's broken end is no failure of the test.
        IgnoringBrokenPipe(() => process.StandardInput.Write(stdin));
        IgnoringBrokenPipe(process.StandardInput.Close);
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill();
            throw new TimeoutException($"cloud-providers {string.Join(' ', args)} did not finish in 30 s.");
        }
        // Every key piped in, and every key the command line makes, goes into the ledger; what the
        // command prints is checked against it (only `key create` prints a key, by design).
        SecretLedger.Record(stdin?.TrimEnd('\n'));
        var printsKey = args.Length >= 2 && args[0] == "key" && args[1] == "create";
        if (printsKey && process.ExitCode == 0)
        {
            SecretLedger.Record(stdout.Result.Trim());
        }
        var command = $"cloud-providers {string.Join(' ', args.Take(2))}";
        SecretLedger.AssertClean($"the stderr of {command}", stderr.Result);
        if (!printsKey)
        {
            SecretLedger.AssertClean($"the stdout of {command}", stdout.Result);
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a command that must succeed and returns its stdout.</summary>
    public string Ok(params string[] args) => OkWithInput(null, args);

    /// <summary>A team with its owner (<see cref="TestUsers.Owner"/>) and the test's ComfyUI key stored, through the command line; returns a new sk key of the team.</summary>
    public string SeedTeam(string team)
    {
        Ok("team", "add", team);
        Ok("member", "add", team, TestUsers.Owner, "--role", "owner");
        OkWithInput(ServiceFactory.ComfyKey + "\n", "credential", "set", team);
        return Ok("key", "create", team, "--kind", "sk").TrimEnd('\n');
    }

    public string OkWithInput(string? stdin, params string[] args)
    {
        var result = RunWithInput(stdin, args);
        Assert.True(result.ExitCode == 0, $"cloud-providers {string.Join(' ', args)} exited {result.ExitCode}: {result.Stderr}");
        return result.Stdout;
    }

    /// <summary>How clients of this binary's servers connect: plain, or trusting one pinned certificate.</summary>
    public Func<HttpMessageHandler> NewHandler { get; set; } = () => new HttpClientHandler();

    /// <summary>A running server on a free loopback port, ready (its /healthz answered).</summary>
    public sealed class Server(Process process, Uri baseAddress, StringBuilder output, Func<HttpMessageHandler> newHandler)
    {
        public Process Process => process;
        public Uri BaseAddress => baseAddress;
        public string Output { get { lock (output) { return output.ToString(); } } }

        /// <summary>The output once it holds the text: the service writes its log in batches, warnings at once.</summary>
        public Task<string> OutputWithAsync(string text) => OutputWhenAsync(output => output.Contains(text, StringComparison.Ordinal));

        /// <summary>The output once the condition holds of it, or after 5 s.</summary>
        public async Task<string> OutputWhenAsync(Func<string, bool> condition)
        {
            var clock = Stopwatch.StartNew();
            while (!condition(Output) && clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(20);
            }
            return Output;
        }

        /// <summary>Sends SIGTERM, as an orchestrator does; the server drains and exits by itself.</summary>
        public void Terminate() =>
            Assert.True(ExternalCommand.Succeeds("kill", "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        /// <summary>SIGTERM, then the exit, within 30 s.</summary>
        public async Task StopAsync()
        {
            Terminate();
            using var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(stopped.Token);
        }

        public HttpClient Client(string? bearer = null, string? team = null)
        {
            var client = new HttpClient(new RecordingHandler(newHandler())) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
            if (bearer is not null)
            {
                client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
            }
            if (team is not null)
            {
                client.DefaultRequestHeaders.TryAddWithoutValidation("X-Team-ID", team);
            }
            return client;
        }
    }

    /// <param name="https">Listen through the standard Kestrel endpoint settings with the certificate at <see cref="CertificatePath"/> (the TLS build), not <c>--urls</c>.</param>
    /// <param name="withDatabase">Pass this fixture's file as <c>--db</c>; without it, the configuration decides.</param>
    /// <param name="port">This loopback port (one a load balancer was given), rather than a free one found now.</param>
    public async Task<Server> ServeAsync(string verb = "serve", Func<string, bool>? readyWhen = null, bool https = false, bool withDatabase = true, int? port = null)
    {
        // A port found free can still be taken by another test's server before this one binds
        // it: then the server says so and exits, and it is started again on another port.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ServeOnceAsync(verb, readyWhen, https, withDatabase, port ?? FreePort());
            }
            catch (InvalidOperationException e) when (port is null && attempt < 3 && e.Message.Contains("is already in use", StringComparison.Ordinal))
            {
            }
        }
    }

    private async Task<Server> ServeOnceAsync(string verb, Func<string, bool>? readyWhen, bool https, bool withDatabase, int port)
    {
        var address = new Uri($"{(https ? "https" : "http")}://127.0.0.1:{port}");
        if (https)
        {
            Environment["Kestrel__Endpoints__Https__Url"] = address.ToString();
            Environment["Kestrel__Endpoints__Https__Certificate__Path"] = CertificatePath;
            Environment["Kestrel__Endpoints__Https__Certificate__KeyPath"] = CertificatePath + ".key";
        }
        string[] database = withDatabase ? DatabaseArguments : [];
        var process = Start(https ? [verb, .. database] : [verb, .. database, "--urls", address.ToString()], redirectInput: false);
        _servers.Add(process);
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new Server(process, address, output, NewHandler);
        if (verb != "demo")
        {
            // The demo prints working curl commands, keys and all, on purpose.
            _logged.Add(server);
        }
        using var probe = new HttpClient(NewHandler()) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(1) };
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with {process.ExitCode}: {server.Output}");
            }
            try
            {
                if ((await probe.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK && (readyWhen?.Invoke(server.Output) ?? true))
                {
                    return server;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or too busy starting (many servers at once) to answer within the probe's second.
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"The server did not answer /healthz within 15 s: {server.Output}");
    }

    private Process Start(IEnumerable<string> args, bool redirectInput)
    {
        var info = new ProcessStartInfo(Path)
        {
            WorkingDirectory = Folder,
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in Environment)
        {
            info.Environment[key] = value;
        }
        return Process.Start(info) ?? throw new InvalidOperationException("Could not start the binary.");
    }

    private static readonly HashSet<int> s_handedOut = [];

    /// <summary>
    /// A port free now, below Linux's ephemeral range (32768 and up), from which the kernel hands
    /// out the ports of outgoing connections and of servers that bind port 0 (the ComfyUI Cloud
    /// stand-in's): one of those could otherwise take it before the server binds it. Never the
    /// same port twice in one run: servers started at once (a fleet of forty) would otherwise
    /// draw the same one now and then, and while the one that loses the bind exits, the other
    /// answers its readiness probe in its place.
    /// </summary>
    internal static int FreePort()
    {
        while (true)
        {
            var port = Random.Shared.Next(20_000, 32_768);
            lock (s_handedOut)
            {
                if (!s_handedOut.Add(port))
                {
                    continue;
                }
            }
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }
    }

    public void Dispose()
    {
        SecretLeakException? leak = null;
        try
        {
            foreach (var server in _logged)
            {
                SecretLedger.AssertClean("a server's output", server.Output);
            }
            foreach (var file in Directory.EnumerateFiles(Folder, "*.db", SearchOption.AllDirectories))
            {
                SecretLedger.AssertDatabaseClean(file);
            }
            if (_postgres is not null)
            {
                SecretLedger.AssertClean($"the database {_postgres.Name}", _postgres.Dump());
            }
        }
        catch (SecretLeakException e)
        {
            leak = e;
        }
        foreach (var server in _servers)
        {
            try
            {
                if (!server.HasExited)
                {
                    server.Kill(entireProcessTree: true);
                    server.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
            }
            server.Dispose();
        }
        _postgres?.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
        if (leak is not null)
        {
            throw leak;
        }
    }
}
