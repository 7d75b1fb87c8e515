using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace CloudProviders.Tests.Support;

/// <summary>
/// A server program a test runs beside the service (a pooler, a load balancer): in a folder of
/// its own, on a free loopback port, in the foreground, its output kept; killed and its folder
/// removed with the test.
/// </summary>
internal abstract class ServerProcess(string name) : IDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _process;

    protected string Folder { get; } = Directory.CreateTempSubdirectory($"cloud-providers-{name}.").FullName;

    public int Port { get; } = NativeBinary.FreePort();

    /// <summary>What the program wrote: its warnings, and whatever it logs.</summary>
    public string Output { get { lock (_output) { return _output.ToString(); } } }

    /// <summary>Starts the program, and returns once it accepts connections on <see cref="Port"/> (15 s at most).</summary>
    protected void Start(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (!Accepts())
        {
            if (_process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(15))
            {
                throw new InvalidOperationException($"{name} did not start: {Output}");
            }
            Thread.Sleep(20);
        }
    }

    private bool Accepts()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process?.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}
