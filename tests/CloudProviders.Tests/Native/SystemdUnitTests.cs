using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Native;

/// <summary>
/// The published binary as the shipped systemd unit runs it (deploy/systemd/cloud-providers.service),
/// where no systemd can start it for real: a user of its own, the state folder as its working
/// directory, the master key in a credentials folder, every <c>Environment=</c> of the unit, no new
/// privileges, memory never writable and executable at once (where the kernel can enforce it),
/// and a <c>NOTIFY_SOCKET</c> that hears READY=1 when it listens and STOPPING=1 at SIGTERM.
/// </summary>
[Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
public sealed class SystemdUnitTests : IDisposable
{
    /// <summary>A user that owns nothing else, as DynamicUser= makes one.</summary>
    private const int ServiceUser = 61234;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cloud-providers-systemd", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The unit's <c>Environment=</c> settings, its state folder and <c>%d</c> moved to where this test put them.</summary>
    private static Dictionary<string, string> UnitEnvironment(string state, string credentials)
    {
        var unit = File.ReadAllLines(Path.Combine(Repository.Root, "deploy", "systemd", "cloud-providers.service"));
        return unit.Where(line => line.StartsWith("Environment=", StringComparison.Ordinal))
            .Select(line => line["Environment=".Length..].Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1].Replace("/var/lib/cloud-providers", state, StringComparison.Ordinal).Replace("%d", credentials, StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task The_binary_runs_as_the_unit_sets_it_up_and_tells_systemd_when_it_is_ready_and_stopping()
    {
        Skip.IfNot(Environment.UserName == "root", "Needs root, to run the binary as a user of its own.");
        var state = Path.Combine(_folder, "state");
        var credentials = Path.Combine(_folder, "credentials");
        Directory.CreateDirectory(state);
        Directory.CreateDirectory(credentials);
        var key = Path.Combine(credentials, "master.key");
        File.WriteAllText(key, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        File.SetUnixFileMode(key, UnixFileMode.UserRead);
        File.SetUnixFileMode(state, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(_folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        Assert.True(ExternalCommand.Succeeds("chown", "-R", $"{ServiceUser}:{ServiceUser}", state, credentials));

        var notifyPath = Path.Combine(_folder, "notify");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        File.SetUnixFileMode(notifyPath, (UnixFileMode)0x1FF);

        var port = NativeBinary.FreePort();
        // MemoryDenyWriteExecute=yes, as the kernel enforces it (PR_SET_MDWE, Linux 6.3 and later),
        // where python3 can ask for it: the executable must never need memory both writable and executable.
        string[] mdwe = ExternalCommand.Succeeds("python3", "-c", MdweSupported) ? ["python3", "-c", MdweThenExec] : [];
        var start = new ProcessStartInfo("setpriv", ["--reuid", $"{ServiceUser}", "--regid", $"{ServiceUser}", "--clear-groups", "--no-new-privs",
            .. mdwe, NativeBinary.DefaultPath, "serve", "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = state,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Clear();
        foreach (var (name, value) in UnitEnvironment(state, credentials))
        {
            start.Environment[name] = value;
        }
        start.Environment["NOTIFY_SOCKET"] = notifyPath;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            Assert.Equal(SystemdNotify.Ready, await ReceiveAsync(notify));
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
            Assert.True(File.Exists(Path.Combine(state, "cloud-providers.db")));
            Assert.Equal((uint)ServiceUser, CloudProviders.Storage.FileStatus.Of(Path.Combine(state, "cloud-providers.db")).OwnerId);

            Assert.True(ExternalCommand.Succeeds("kill", "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal(SystemdNotify.Stopping, await ReceiveAsync(notify));
            using var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(stopped.Token);
            Assert.Equal(0, process.ExitCode);
            // JSON lines, as the unit asks, and no complaint about the key file's owner or mode.
            var log = await errors + await output;
            Assert.Contains("\"Category\":\"Microsoft.Hosting.Lifetime\"", log, StringComparison.Ordinal);
            Assert.DoesNotContain("Encryption:KeyFile", log, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    /// <summary>Exits 0 where the kernel takes PR_SET_MDWE (65) with PR_MDWE_REFUSE_EXEC_GAIN (1).</summary>
    private const string MdweSupported = "import ctypes, sys; sys.exit(ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) != 0)";

    /// <summary>Sets it, then becomes the command given after it.</summary>
    private const string MdweThenExec = "import ctypes, os, sys; assert ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) == 0; os.execv(sys.argv[1], sys.argv[1:])";

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received);
    }
}
