using System.Net;
using CloudProviders.Domain;
using CloudProviders.Storage;
using CloudProviders.Tests.Support;
using Microsoft.Data.Sqlite;

namespace CloudProviders.Tests.Api;

/// <summary>The read cache never serves what the file no longer says.</summary>
[Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
public sealed class ChangeDetectionTests : IDisposable
{
    private readonly TestClock _clock = new();
    private readonly ServiceFactory _app;

    public ChangeDetectionTests()
    {
        _app = ServiceFactory.WithClock(_clock);
        _app.SeedTeamA();
    }

    [Fact]
    public async Task A_write_through_another_connection_is_served_at_the_next_request()
    {
        using var client = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk));
        var before = await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        Assert.True(before.GetProperty("cloud_fallback").GetBoolean());

        // Another process's view: its own Database and store on the same file.
        var other = new CredentialStore(new SqliteDatabase(_app.DatabasePath), TimeProvider.System,
            new Lazy<CredentialCipher>(_app.Get<CredentialCipher>));
        other.Set(ServiceFactory.TeamA, Provider.ComfyCloud, "comfyui-replaced-by-another-process-0000", cloudFallback: false, Actor.Cli);

        var after = await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        Assert.False(after.GetProperty("cloud_fallback").GetBoolean());
        Assert.Equal("comfyui-...0000", after.GetProperty("key_preview").GetString());
    }

    [Fact]
    public Task A_file_replaced_by_an_atomic_rename_is_read_once_the_identity_check_is_due() => ReplaceAndReadAsync(_app, _clock);

    [Fact]
    public void Commits_are_seen_at_once_and_the_files_identity_at_most_once_per_interval()
    {
        var watch = (ChangeWatch)_app.Get<IChangeWatch>();
        var start = watch.CheckForChanges();
        _app.Get<TeamStore>().AddMember(ServiceFactory.TeamA, "frank", Role.Member);
        SqliteFiles.Checkpoint(_app.DatabasePath);
        var afterCommit = watch.CheckForChanges();
        Assert.NotEqual(start, afterCommit);

        // Replaced underneath: no system call looks before the interval is up, then one does.
        File.Copy(_app.DatabasePath, _app.DatabasePath + ".copy");
        File.Move(_app.DatabasePath + ".copy", _app.DatabasePath, overwrite: true);
        Assert.Equal(afterCommit, watch.CheckForChanges());
        _clock.Advance(ChangeWatch.IdentityCheckInterval);
        Assert.NotEqual(afterCommit, watch.CheckForChanges());
    }

    [Fact]
    public async Task A_file_replaced_after_writes_the_watch_saw_is_read_without_the_old_files_WAL()
    {
        // The watch opens before anything writes (a restart, then a read), so the writes that
        // follow stay in the WAL, whose name the replacement file inherits.
        var clock = new TestClock();
        using var app = ServiceFactory.WithClock(clock);
        app.Get<ReadCache>().CheckForChanges();
        app.SeedTeamA();
        await ReplaceAndReadAsync(app, clock);
    }

    [Fact]
    public void The_watch_holds_its_connection_from_when_it_is_made_over_an_existing_file()
    {
        // Its first open clears every pool. Made before the master key check and the migrations
        // open theirs, it clears none of them, and the first request reads on their connections.
        var folder = Directory.CreateTempSubdirectory("cloud-providers-watch-");
        try
        {
            var database = new SqliteDatabase(Path.Combine(folder.FullName, "watched.db"));
            using (var early = (ChangeWatch)database.WatchChanges(TimeProvider.System))
            {
                // No file yet: nothing is opened, and the first look says so.
                Assert.Equal(0, OpenHandles(database.Path));
                Assert.Throws<SqliteException>(() => early.CheckForChanges());
            }

            database.Migrate();
            SqliteConnection.ClearAllPools();
            Assert.Equal(0, OpenHandles(database.Path));
            using var watch = (ChangeWatch)database.WatchChanges(TimeProvider.System);
            Assert.Equal(1, OpenHandles(database.Path));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    /// <summary>How many of this process's file descriptors are open on the file.</summary>
    private static int OpenHandles(string path) =>
        Directory.EnumerateFiles("/proc/self/fd").Count(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget == path;
            }
            catch (IOException)
            {
                return false; // closed meanwhile by another thread
            }
        });

    private static async Task ReplaceAndReadAsync(ServiceFactory app, TestClock clock)
    {
        var key = app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
        using var client = app.ClientWith(key);
        await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);

        // A restore or a snapshot replicator lands a new copy beside the file and renames it over.
        var copy = app.DatabasePath + ".incoming";
        using (var source = new SqliteConnection($"Data Source={app.DatabasePath}"))
        {
            source.Open();
            using var command = source.CreateCommand();
            command.CommandText = $"VACUUM INTO '{copy}';";
            command.ExecuteNonQuery();
        }
        var incoming = new SqliteDatabase(copy);
        new CredentialStore(incoming, TimeProvider.System, new Lazy<CredentialCipher>(app.Get<CredentialCipher>))
            .Revoke(ServiceFactory.TeamA, Provider.ComfyCloud, Actor.Cli);
        SqliteConnection.ClearAllPools();
        File.Move(copy, app.DatabasePath, overwrite: true);
        clock.Advance(ChangeWatch.IdentityCheckInterval);

        var body = await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        Assert.Equal("revoked", body.GetProperty("credential_status").GetString());
        await HttpAssert.Json(await client.GetAsync("/readyz"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_file_that_vanishes_and_comes_back_is_served_again_without_a_restart()
    {
        using var client = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk));
        await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        var aside = _app.DatabasePath + ".aside";
        SqliteFiles.Checkpoint(_app.DatabasePath);
        File.Move(_app.DatabasePath, aside);
        _clock.Advance(ChangeWatch.IdentityCheckInterval);

        await HttpAssert.Error(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.ServiceUnavailable);
        await HttpAssert.Error(await client.GetAsync("/readyz"), HttpStatusCode.ServiceUnavailable);

        File.Move(aside, _app.DatabasePath);
        await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        await HttpAssert.Json(await client.GetAsync("/readyz"), HttpStatusCode.OK);
    }

    public void Dispose() => _app.Dispose();
}
