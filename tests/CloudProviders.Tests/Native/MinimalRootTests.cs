using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Native;

/// <summary>
/// The promise of the distroless final stage, kept without pulling an image: the executable runs
/// in a root that holds only itself, the shared libraries it needs (from ldd, plus OpenSSL, which
/// .NET loads at run time), /dev/null and /dev/urandom (every container runtime provides them),
/// and a writable /data, as a non-root user.
/// </summary>
[Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
public sealed partial class MinimalRootTests : IDisposable
{
    private const string Team = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718293";
    private const string Uid = "1654";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cloud-providers-root", Guid.NewGuid().ToString("N"));

    [GeneratedRegex(@"(/\S+\.so[.\d]*)")]
    private static partial Regex LibraryPath();

    private static (int Exit, string Out, string Err) Sh(string file, string? stdin, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(stdin ?? "");
        process.StandardInput.Close();
        Assert.True(process.WaitForExit(30_000), $"{file} {string.Join(' ', args)} hung");
        return (process.ExitCode, output.Result, error.Result);
    }

    private (int Exit, string Out, string Err) Inside(string? stdin, params string[] args) =>
        Sh("chroot", stdin, [$"--userspec={Uid}:{Uid}", _root, "/app/cloud-providers", .. args, "--db", "/data/cloud-providers.db"]);

    private void BuildRoot(string binary)
    {
        Directory.CreateDirectory(Path.Combine(_root, "app"));
        File.Copy(binary, Path.Combine(_root, "app", "cloud-providers"));
        var libraries = LibraryPath().Matches(Sh("ldd", null, binary).Out).Select(m => m.Value).ToList();
        foreach (var name in new[] { "libssl.so.3", "libcrypto.so.3" })
        {
            var found = Sh("ldconfig", null, "-p").Out.Split('\n').First(l => l.TrimStart().StartsWith(name + " ", StringComparison.Ordinal));
            libraries.Add(found[(found.LastIndexOf("=> ", StringComparison.Ordinal) + 3)..].Trim());
        }
        foreach (var library in libraries.Distinct())
        {
            var target = _root + library;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.GetFullPath(new FileInfo(library).ResolveLinkTarget(true)?.FullName ?? library), target);
        }
        Directory.CreateDirectory(Path.Combine(_root, "dev"));
        Assert.Equal(0, Sh("mknod", null, "-m", "666", Path.Combine(_root, "dev", "null"), "c", "1", "3").Exit);
        Assert.Equal(0, Sh("mknod", null, "-m", "666", Path.Combine(_root, "dev", "urandom"), "c", "1", "9").Exit);
        Directory.CreateDirectory(Path.Combine(_root, "data"));
        Assert.Equal(0, Sh("chown", null, $"{Uid}:{Uid}", Path.Combine(_root, "data")).Exit);
    }

    [SkippableFact]
    public async Task The_executable_migrates_seeds_serves_and_stops_cleanly_as_non_root_in_a_minimal_root()
    {
        Skip.IfNot(Environment.UserName == "root", "chroot needs root; CI runs as root.");
        using var native = new NativeBinary();
        BuildRoot(native.Path);
        Assert.All(Directory.GetDirectories(_root), d => Assert.Contains(Path.GetFileName(d), new[] { "app", "data", "dev", "lib", "lib64", "usr" }));

        Assert.Equal(0, Inside(null, "migrate").Exit);
        Assert.Equal(0, Inside(null, "team", "add", Team).Exit);
        var sk = Inside(null, "key", "create", Team, "--kind", "sk").Out.Trim();
        var set = Inside(ServiceFactory.ComfyKey + "\n", "credential", "set", Team);
        Assert.Equal(0, set.Exit);

        // Bad input fails the same way inside as outside.
        var insideFailure = Inside(null, "team", "add", "not-a-uuid");
        var outsideFailure = native.Run("team", "add", "not-a-uuid");
        Assert.Equal(outsideFailure.ExitCode, insideFailure.Exit);
        Assert.NotEqual(0, insideFailure.Exit);

        var port = NativeBinary.FreePort();
        var info = new ProcessStartInfo("chroot") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { $"--userspec={Uid}:{Uid}", _root, "/app/cloud-providers", "serve", "--db", "/data/cloud-providers.db", "--urls", $"http://127.0.0.1:{port}" })
        {
            info.ArgumentList.Add(arg);
        }
        using var server = Process.Start(info)!;
        _ = server.StandardOutput.ReadToEndAsync();
        _ = server.StandardError.ReadToEndAsync();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + sk);
        HttpResponseMessage? response = null;
        for (var attempt = 0; attempt < 200 && response is null; attempt++)
        {
            try
            {
                response = await client.GetAsync(HttpAssert.StatusPath);
            }
            catch (HttpRequestException)
            {
                await Task.Delay(25);
            }
        }
        Assert.NotNull(response);
        var body = await HttpAssert.Json(response, HttpStatusCode.OK);
        Assert.Equal("comfyui-...89ab", body.GetProperty("key_preview").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);

        Assert.Equal(0, Sh("kill", null, "-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Exit);
        Assert.True(server.WaitForExit(15_000));
        Assert.Equal(0, server.ExitCode);
        Assert.All(Directory.GetFiles(Path.Combine(_root, "data")), f => Assert.Equal(Uid, Sh("stat", null, "-c", "%u", f).Out.Trim()));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
