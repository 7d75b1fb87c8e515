using System.Net;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Native;

/// <summary>
/// The published binary's view of teams and of its keys' use: <c>team list</c>, <c>team
/// remove</c> (everything a team owns, at once, on a running server too), and <c>key list</c>'s
/// last use, written when the server stops, and its <c>--idle-days</c>.
/// </summary>
public sealed class TeamAndKeyUseTests : IDisposable
{
    private const string Team = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718293";
    private const string OtherTeam = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718294";

    private readonly NativeBinary _bin = new();

    public void Dispose() => _bin.Dispose();

    private string Seed()
    {
        _bin.Ok("team", "add", Team, "--name", "Acme");
        _bin.Ok("team", "add", OtherTeam);
        _bin.Ok("member", "add", Team, TestUsers.Owner, "--role", "owner");
        _bin.Ok("member", "add", Team, TestUsers.Viewer, "--role", "viewer");
        var sk = _bin.Ok("key", "create", Team, "--kind", "sk").TrimEnd('\n');
        _bin.Ok("key", "create", Team, "--kind", "dk");
        _bin.OkWithInput(ServiceFactory.ComfyKey + "\n", "credential", "set", Team);
        return sk;
    }

    [Fact]
    public void Team_list_prints_every_team_with_its_members_and_keys()
    {
        Seed();
        var rows = _bin.Ok("team", "list").TrimEnd('\n').Split('\n').Select(line => line.Split('\t')).ToList();
        Assert.Equal([[Team, "Acme", "2", "2"], [OtherTeam, "", "0", "0"]], rows.Select(r => new[] { r[0], r[1], r[3], r[4] }));
        Assert.All(rows, r => Assert.Matches(ContractTime.Shape(), r[2]));
    }

    [Fact]
    public void Team_remove_takes_everything_the_team_owns_and_says_how_much()
    {
        Seed();
        var run = _bin.Run("team", "remove", Team);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal($"note: removed team {Team}: 2 members, 2 API keys, 1 credentials, 1 audit rows.\n", run.Stderr);
        Assert.Equal([OtherTeam], _bin.Ok("team", "list").TrimEnd('\n').Split('\n').Select(line => line.Split('\t')[0]));
        Assert.Equal(1, _bin.Run("key", "list", Team).ExitCode);
        Assert.Equal(1, _bin.Run("audit", Team).ExitCode);
        // The team can be made again from nothing.
        _bin.Ok("team", "add", Team);
        Assert.Equal("", _bin.Ok("key", "list", Team));
    }

    [Fact]
    public void Removing_an_unknown_team_exits_1_with_one_line()
    {
        _bin.Ok("team", "add", OtherTeam);
        var run = _bin.Run("team", "remove", Team);
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("error: No team", Assert.Single(run.Stderr.TrimEnd('\n').Split('\n')), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_removed_teams_key_is_refused_by_a_running_server()
    {
        var sk = Seed();
        var server = await _bin.ServeAsync();
        using var client = server.Client(sk);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/cloud-providers/comfy-cloud")).StatusCode);
        _bin.Ok("team", "remove", Team);
        // Another process removed it: at once on SQLite, within the notification's latency on PostgreSQL.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((await client.GetAsync("/api/v1/cloud-providers/comfy-cloud")).StatusCode != HttpStatusCode.Unauthorized)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "The removal was not heard within 10 s.");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Key_list_says_when_a_key_was_last_used_once_the_server_has_written_it()
    {
        var sk = Seed();
        Assert.All(_bin.Ok("key", "list", Team).TrimEnd('\n').Split('\n'), line => Assert.Equal("never", line.Split('\t')[6]));
        var server = await _bin.ServeAsync();
        using (var client = server.Client(sk))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/cloud-providers/comfy-cloud")).StatusCode);
        }
        var usedAround = DateTimeOffset.UtcNow;
        await server.StopAsync();
        var rows = _bin.Ok("key", "list", Team).TrimEnd('\n').Split('\n').Select(line => line.Split('\t')).ToDictionary(r => r[0], r => r[6]);
        Assert.Equal("never", rows.Single(r => r.Key != sk[..12]).Value);
        var lastUsed = DateTimeOffset.Parse(rows[sk[..12]], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(0, lastUsed.Second);
        Assert.InRange(usedAround - lastUsed, TimeSpan.Zero, TimeSpan.FromMinutes(2));
    }

    [Fact]
    public void A_key_made_today_is_not_idle_for_a_day()
    {
        Seed();
        Assert.Equal("", _bin.Ok("key", "list", Team, "--idle-days", "1"));
        Assert.Equal(2, _bin.Ok("key", "list", Team).TrimEnd('\n').Split('\n').Length);
    }

    [Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
    [Fact]
    public void A_key_made_long_ago_and_never_used_is_idle()
    {
        var sk = Seed();
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_bin.DatabasePath}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE api_keys SET created_at = created_at - 40 * 86400 WHERE prefix = $prefix;";
            command.Parameters.AddWithValue("$prefix", sk[..12]);
            Assert.Equal(1, command.ExecuteNonQuery());
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Assert.Equal([sk[..12]], _bin.Ok("key", "list", Team, "--idle-days", "30").TrimEnd('\n').Split('\n').Select(line => line.Split('\t')[0]));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("3651")]
    [InlineData("soon")]
    public void An_idle_period_out_of_range_exits_with_one_line(string days)
    {
        Seed();
        var run = _bin.Run("key", "list", Team, "--idle-days", days);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Single(run.Stderr.TrimEnd('\n').Split('\n'));
    }
}
