using System.Net;
using System.Security.Cryptography;
using CloudProviders.Domain;
using CloudProviders.Storage;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Api;

/// <summary>A failing disk: the process stays up, answers 503, and recovers when the file does.</summary>
[Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
public sealed class StorageFaultTests : IDisposable
{
    private readonly TestClock _clock = new();
    private readonly ServiceFactory _app;

    public StorageFaultTests()
    {
        _app = ServiceFactory.WithClock(_clock);
        _app.SeedTeamA();
    }

    private byte[] TakeGoodCopy()
    {
        SqliteFiles.Checkpoint(_app.DatabasePath);
        return File.ReadAllBytes(_app.DatabasePath);
    }

    [Theory]
    [InlineData("random")]
    [InlineData("truncated")]
    public async Task A_corrupt_file_gets_503_and_fails_readiness_then_recovers_when_restored_without_a_restart(string damage)
    {
        using var client = _app.ClientWith(_app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk));
        var good = await client.GetStringAsync(HttpAssert.StatusPath);
        var copy = TakeGoodCopy();

        // The damage lands as a new file, the way a bad restore would.
        var bad = damage == "random" ? RandomNumberGenerator.GetBytes(copy.Length) : copy[..(copy.Length / 3)];
        await File.WriteAllBytesAsync(_app.DatabasePath + ".bad", bad);
        File.Move(_app.DatabasePath + ".bad", _app.DatabasePath, overwrite: true);
        _clock.Advance(ChangeWatch.IdentityCheckInterval);

        var response = await client.GetAsync(HttpAssert.StatusPath);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
        await HttpAssert.Error(response, HttpStatusCode.ServiceUnavailable);
        await HttpAssert.Error(await client.GetAsync("/readyz"), HttpStatusCode.ServiceUnavailable);
        await HttpAssert.Json(await client.GetAsync("/healthz"), HttpStatusCode.OK);

        await File.WriteAllBytesAsync(_app.DatabasePath + ".good", copy);
        File.Move(_app.DatabasePath + ".good", _app.DatabasePath, overwrite: true);
        _clock.Advance(ChangeWatch.IdentityCheckInterval);
        Assert.Equal(good, await client.GetStringAsync(HttpAssert.StatusPath));
        await HttpAssert.Json(await client.GetAsync("/readyz"), HttpStatusCode.OK);
    }

    /// <summary>
    /// A file that cannot be written (ext4's immutable attribute holds even for root, where a
    /// 0444 mode would not): the write gets 503 and the row stays as it was.
    /// </summary>
    [SkippableFact]
    public async Task A_write_to_a_file_that_cannot_be_written_gets_503_and_leaves_the_old_row_intact()
    {
        using var client = _app.ClientWith(TestKeys.Hs256(TestUsers.Owner), ServiceFactory.TeamA);
        var before = await client.GetStringAsync(HttpAssert.StatusPath);
        var files = new[] { _app.DatabasePath, _app.DatabasePath + "-wal" }.Where(File.Exists).ToArray();
        Skip.IfNot(Chattr("+i", files), "chattr +i needs root on a filesystem with the immutable attribute.");
        try
        {
            var put = await client.PutAsync(HttpAssert.StatusPath, Json("""{"api_key":"comfyui-should-not-land-000000"}"""));
            await HttpAssert.Error(put, HttpStatusCode.ServiceUnavailable);
            await HttpAssert.Error(await client.DeleteAsync(HttpAssert.StatusPath), HttpStatusCode.ServiceUnavailable);
            Assert.Equal(before, await client.GetStringAsync(HttpAssert.StatusPath));
        }
        finally
        {
            Chattr("-i", files);
        }
        Assert.Equal(before, await client.GetStringAsync(HttpAssert.StatusPath));
        Assert.Equal(ServiceFactory.ComfyKey, _app.Get<Storage.CredentialStore>().ReadKey(ServiceFactory.TeamA, Domain.Provider.ComfyCloud));
        // Once the file is writable again, writes land: at once, or after the one Retry-After a client honours.
        var recovered = await client.PutAsync(HttpAssert.StatusPath, Json("""{"api_key":"comfyui-lands-after-recovery-0000"}"""));
        if (recovered.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            recovered = await client.PutAsync(HttpAssert.StatusPath, Json("""{"api_key":"comfyui-lands-after-recovery-0000"}"""));
        }
        Assert.True(recovered.StatusCode == HttpStatusCode.OK, string.Join('\n', _app.Logs.Where(l => l.Contains("Storage", StringComparison.Ordinal))));
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    private static bool Chattr(string flag, string[] files) => ExternalCommand.Succeeds("chattr", [flag, .. files]);

    public void Dispose() => _app.Dispose();
}

/// <summary>A full disk during a write, on a small tmpfs of its own: 503, and the old row stays.</summary>
[Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
public sealed class DiskFullTests : IDisposable
{
    private readonly string _mount = Path.Combine(Path.GetTempPath(), "cloud-providers-tests", "full-" + Guid.NewGuid().ToString("N"));
    private readonly bool _mounted;
    private ServiceFactory? _app;

    public DiskFullTests()
    {
        Directory.CreateDirectory(_mount);
        _mounted = ExternalCommand.Succeeds("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", _mount);
    }

    [SkippableFact]
    public async Task A_write_on_a_full_disk_gets_503_and_leaves_the_old_row_intact_then_lands_once_there_is_room()
    {
        Skip.IfNot(_mounted, "mounting a small tmpfs needs root (CAP_SYS_ADMIN).");
        _app = new ServiceFactory(settings => settings["Database:Path"] = Path.Combine(_mount, "full.db"));
        _app.SeedTeamA();
        using var client = _app.ClientWith(TestKeys.Hs256(TestUsers.Owner), ServiceFactory.TeamA);
        var before = await client.GetStringAsync(HttpAssert.StatusPath);

        // Fill what is left of the file system, so the next commit cannot grow the WAL.
        var filler = Path.Combine(_mount, "filler");
        try
        {
            using var stream = File.Create(filler);
            var block = new byte[64 * 1024];
            while (true)
            {
                stream.Write(block);
                stream.Flush();
            }
        }
        catch (IOException)
        {
        }

        var put = await client.PutAsync(HttpAssert.StatusPath, Json("""{"api_key":"comfyui-should-not-land-000000"}"""));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, put.StatusCode);
        Assert.Equal("1", put.Headers.RetryAfter?.ToString());
        await HttpAssert.Error(put, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(before, await client.GetStringAsync(HttpAssert.StatusPath));
        Assert.Equal(ServiceFactory.ComfyKey, _app.Get<Storage.CredentialStore>().ReadKey(ServiceFactory.TeamA, Domain.Provider.ComfyCloud));

        File.Delete(filler);
        var recovered = await client.PutAsync(HttpAssert.StatusPath, Json("""{"api_key":"comfyui-lands-after-recovery-0000"}"""));
        if (recovered.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            recovered = await client.PutAsync(HttpAssert.StatusPath, Json("""{"api_key":"comfyui-lands-after-recovery-0000"}"""));
        }
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Equal("comfyui-lands-after-recovery-0000", _app.Get<Storage.CredentialStore>().ReadKey(ServiceFactory.TeamA, Domain.Provider.ComfyCloud));
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    public void Dispose()
    {
        _app?.Dispose();
        if (_mounted)
        {
            ExternalCommand.Succeeds("umount", "-l", _mount);
        }
        try
        {
            Directory.Delete(_mount, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Path and method variants: what the service decided, held to.</summary>
public sealed class PathVariantTests : IDisposable
{
    private readonly ServiceFactory _app = new();
    private readonly string _key;

    public PathVariantTests()
    {
        _app.SeedTeamA();
        _key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
    }

    [Theory]
    [InlineData("/api/v1/cloud-providers/comfy-cloud/", HttpStatusCode.OK)]
    [InlineData("/API/V1/Cloud-Providers/Comfy-Cloud", HttpStatusCode.OK)]
    [InlineData("/api/v1/cloud-providers%2Fcomfy-cloud", HttpStatusCode.NotFound)]
    [InlineData("/api/v1//cloud-providers/comfy-cloud", HttpStatusCode.NotFound)]
    [InlineData("/api/v1/cloud-providers/comfy-cloud;x=1", HttpStatusCode.NotFound)]
    [InlineData("/api/v1/cloud-providers/comfy-cloud/extra", HttpStatusCode.NotFound)]
    [InlineData("/api/v1/cloud-providers/comfy-cloud?x=1", HttpStatusCode.OK)]
    public async Task Path_variants_route_as_decided(string path, HttpStatusCode expected)
    {
        using var client = _app.ClientWith(_key);
        var response = await client.GetAsync(path);
        Assert.Equal(expected, response.StatusCode);
        if (expected != HttpStatusCode.OK)
        {
            await HttpAssert.Error(response, expected);
        }
    }

    public void Dispose() => _app.Dispose();
}
