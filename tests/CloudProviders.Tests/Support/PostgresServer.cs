using System.Diagnostics;
using Npgsql;

namespace CloudProviders.Tests.Support;

/// <summary>
/// A PostgreSQL server of one test's own (Debian's programs, which <c>tests/postgres.sh</c>
/// installs), for what would disturb the shared one: restarting it. Created in a temporary folder
/// on a loopback port, as nobody when the tests run as root (initdb refuses root), and removed with
/// the test.
/// </summary>
internal sealed class PostgresServer : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cloud-providers-postgres-own.").FullName;
    private readonly string _bin;
    private readonly bool _root = Environment.UserName == "root";

    public PostgresServer()
    {
        _bin = Directory.GetDirectories("/usr/lib/postgresql").OrderBy(path => int.Parse(Path.GetFileName(path), System.Globalization.CultureInfo.InvariantCulture)).Last() + "/bin";
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        SecretLedger.Record(password);
        File.WriteAllText(Path.Combine(_folder, "password"), password);
        if (_root)
        {
            Assert.True(ExternalCommand.Succeeds("chown", "-R", "nobody", _folder));
        }
        Port = NativeBinary.FreePort();
        Run("initdb", "-D", Data, "-U", "postgres", "-A", "scram-sha-256", $"--pwfile={Path.Combine(_folder, "password")}", "-E", "UTF8", "--no-instructions");
        ConnectionString = $"Host=127.0.0.1;Port={Port};Username=postgres;Password={password};Database=postgres";
        Start();
    }

    public int Port { get; }

    /// <summary>To its superuser, on loopback, password included.</summary>
    public string ConnectionString { get; }

    private string Data => Path.Combine(_folder, "data");

    public void Start() => Run("pg_ctl", "-D", Data, "-l", Path.Combine(_folder, "server.log"), "-w", "-t", "30",
        "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -k {_folder} -c fsync=off", "start");

    /// <summary>A restart as an operator does one: every session ended, the server down, then up again.</summary>
    public void Restart() => Run("pg_ctl", "-D", Data, "-l", Path.Combine(_folder, "server.log"), "-w", "-t", "30", "-m", "fast", "restart");

    /// <summary>Runs one of the server's programs as its owner; fails the test, with the program's output, if it fails.</summary>
    private void Run(string program, params string[] arguments)
    {
        var info = _root ? new ProcessStartInfo("runuser", ["-u", "nobody", "--", Path.Combine(_bin, program), .. arguments])
            : new ProcessStartInfo(Path.Combine(_bin, program), arguments);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), $"{program} hung");
        Assert.True(process.ExitCode == 0, $"{program} failed: {output.Result}{errors}");
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            Run("pg_ctl", "-D", Data, "-m", "immediate", "stop");
        }
        catch (Xunit.Sdk.XunitException)
        {
            // Already stopped.
        }
        Directory.Delete(_folder, recursive: true);
    }
}
