using System.Diagnostics;
using Npgsql;

namespace CloudProviders.Tests.Support;

/// <summary>
/// A throwaway PgBouncer (Debian's, which <c>tests/run.sh</c> installs) in transaction mode, in
/// front of the test server. As root it runs as nobody, as PostgreSQL does (it refuses root).
/// </summary>
internal sealed class PgBouncer : ServerProcess
{
    /// <param name="poolSize">Server connections per database and user: what the whole fleet shares.</param>
    public PgBouncer(int poolSize) : base("pgbouncer")
    {
        var server = new NpgsqlConnectionStringBuilder(TestEngine.ServerConnectionString);
        var userList = Path.Combine(Folder, "userlist.txt");
        File.WriteAllText(userList, $"\"{server.Username}\" \"{server.Password}\"\n");
        var config = Path.Combine(Folder, "pgbouncer.ini");
        File.WriteAllText(config, $"""
            [databases]
            * = host={server.Host} port={server.Port}

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
            """);
        var root = Environment.UserName == "root";
        if (root)
        {
            Assert.True(ExternalCommand.Succeeds("chown", "-R", "nobody", Folder));
        }
        File.SetUnixFileMode(userList, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Start(root ? new ProcessStartInfo("runuser", ["-u", "nobody", "--", "pgbouncer", config]) : new ProcessStartInfo("pgbouncer", [config]));
    }

    /// <summary>The given connection string, pointed at the pooler (which the test client reaches in plain text on loopback).</summary>
    public string Through(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Host = "127.0.0.1", Port = Port, SslMode = SslMode.Disable }.ConnectionString;
}
