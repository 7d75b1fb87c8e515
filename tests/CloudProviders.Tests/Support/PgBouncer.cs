using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;

namespace CloudProviders.Tests.Support;

/// <summary>
/// A throwaway PgBouncer (Debian's, which <c>tests/run.sh</c> installs) in transaction mode, in
/// front of the test server, on a loopback port, in a folder of its own; stopped and removed with
/// the fixture. As root it runs as nobody, as PostgreSQL does (it refuses root).
/// </summary>
internal sealed class PgBouncer : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cloud-providers-pgbouncer.").FullName;
    private readonly Process _process;
    private readonly NpgsqlConnectionStringBuilder _server;

    /// <param name="poolSize">Server connections per database and user: what the whole fleet shares.</param>
    public PgBouncer(int poolSize)
    {
        PoolSize = poolSize;
        _server = new NpgsqlConnectionStringBuilder(TestEngine.ServerConnectionString);
        Port = NativeBinary.FreePort();
        var userList = Path.Combine(_folder, "userlist.txt");
        File.WriteAllText(userList, $"\"{_server.Username}\" \"{_server.Password}\"\n");
        File.WriteAllText(Path.Combine(_folder, "pgbouncer.ini"), $"""
            [databases]
            * = host={_server.Host} port={_server.Port}

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {Port}
            unix_socket_dir =
            auth_type = scram-sha-256
            auth_file = {userList}
            pool_mode = transaction
            default_pool_size = {poolSize}
            max_client_conn = 5000
            server_tls_sslmode = require
            logfile = {Path.Combine(_folder, "pgbouncer.log")}
            """);
        var root = Environment.UserName == "root";
        if (root)
        {
            Run("chown", "-R", "nobody", _folder);
        }
        File.SetUnixFileMode(userList, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var info = root ? new ProcessStartInfo("runuser", ["-u", "nobody", "--", "pgbouncer", Path.Combine(_folder, "pgbouncer.ini")])
            : new ProcessStartInfo("pgbouncer", [Path.Combine(_folder, "pgbouncer.ini")]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        _process = Process.Start(info)!;
        var deadline = Stopwatch.StartNew();
        while (!Accepts())
        {
            if (_process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(15))
            {
                throw new InvalidOperationException($"PgBouncer did not start: {_process.StandardError.ReadToEnd()}{Log}");
            }
            Thread.Sleep(20);
        }
    }

    public int Port { get; }

    public int PoolSize { get; }

    public string Log => File.Exists(Path.Combine(_folder, "pgbouncer.log")) ? File.ReadAllText(Path.Combine(_folder, "pgbouncer.log")) : "";

    /// <summary>The given connection string, pointed at the pooler (which the test client reaches in plain text on loopback).</summary>
    public string Through(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Host = "127.0.0.1", Port = Port, SslMode = SslMode.Disable }.ConnectionString;

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

    private static void Run(string command, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { UseShellExecute = false })!;
        process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
