using System.Diagnostics;
using System.Net;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Native;

/// <summary>
/// The README's first-deployment walk-through, line by line, against the published executable:
/// shell lines run in bash, <c>docker run</c> starts the server with the image's environment and the
/// line's <c>-e</c> settings, and <c>docker exec</c> runs an admin command the same way, with the
/// container's paths mapped to temporary folders. If the README drifts, this fails.
/// </summary>
[Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
public sealed class FirstDeploymentTests : IDisposable
{
    private readonly NativeBinary _bin = new();

    [SkippableFact]
    public async Task The_readmes_first_deployment_commands_work_as_written()
    {
        Skip.IfNot(Environment.UserName == "root", "The walk-through gives the key file to the image's user with chown.");
        var root = Repository.Root;
        var lines = Block(File.ReadAllLines(Path.Combine(root, "README.md")), "```sh first-deployment");
        var folder = _bin.Folder;
        var data = Path.Combine(folder, "data");
        Directory.CreateDirectory(data);
        using (var keys = new TestKeys())
        {
            File.WriteAllText(Path.Combine(folder, "idp-public.pem"), keys.PublicPem);
        }
        File.WriteAllText(Path.Combine(folder, "comfy.key"), ServiceFactory.ComfyKey + "\n");
        SecretLedger.Record(ServiceFactory.ComfyKey);

        var environment = ImageEnvironment(File.ReadAllLines(Path.Combine(root, "Dockerfile")));
        var mounts = new Dictionary<string, string> { ["/data"] = data };
        NativeBinary.Server? server = null;
        string? deviceKey = null;
        foreach (var line in lines)
        {
            var words = Words(line);
            if (words[0] == "docker" && words[1] == "run")
            {
                for (var i = 2; i < words.Count - 1; i++)
                {
                    if (words[i] == "-v")
                    {
                        var parts = words[++i].Split(':');
                        mounts[parts[1]] = parts[0].StartsWith('/') || parts[0].StartsWith("$PWD", StringComparison.Ordinal)
                            ? parts[0].Replace("$PWD", folder, StringComparison.Ordinal)
                            : data;
                    }
                    else if (words[i] == "-e")
                    {
                        var (name, value) = Split(words[++i]);
                        environment[name] = value;
                    }
                }
                Apply(environment, mounts);
                server = await _bin.ServeAsync(withDatabase: false);
            }
            else if (words[0] == "docker" && words[1] == "exec")
            {
                var at = words.IndexOf("/app/cloud-providers");
                var input = words.IndexOf("<");
                var args = words[(at + 1)..(input < 0 ? words.Count : input)];
                var stdin = input < 0 ? null : File.ReadAllText(Path.Combine(folder, words[input + 1]));
                var result = _bin.RunExactly(stdin, [.. args]);
                Assert.True(result.ExitCode == 0, $"{line}: {result.Stderr}");
                if (args[0] == "key")
                {
                    deviceKey = result.Stdout.Trim();
                }
            }
            else
            {
                Assert.Equal(0, Bash(line, folder));
            }
        }

        Assert.NotNull(server);
        Assert.StartsWith("dk-", deviceKey, StringComparison.Ordinal);
        using var client = server.Client(deviceKey);
        var body = await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        Assert.Equal("comfyui-...89ab", body.GetProperty("key_preview").GetString());
        Assert.False(File.Exists(Path.Combine(data, "cloud-providers.db.key")), "no development key next to the data");
        Assert.True(File.Exists(Path.Combine(data, "cloud-providers.db")));
    }

    /// <summary>The image's <c>ENV</c> settings, as a container starts with them.</summary>
    private static Dictionary<string, string> ImageEnvironment(string[] dockerfile)
    {
        var environment = new Dictionary<string, string>();
        var inEnv = false;
        foreach (var raw in dockerfile)
        {
            var line = raw.Trim();
            if (line.StartsWith("ENV ", StringComparison.Ordinal))
            {
                inEnv = true;
                line = line[4..];
            }
            if (!inEnv)
            {
                continue;
            }
            inEnv = line.EndsWith('\\');
            var (name, value) = Split(line.TrimEnd('\\').Trim());
            environment[name] = value;
        }
        return environment;
    }

    /// <summary>Maps container paths to the test's folders, and the listening address to the one the fixture picks.</summary>
    private void Apply(Dictionary<string, string> environment, Dictionary<string, string> mounts)
    {
        foreach (var (name, value) in environment)
        {
            if (name == "ASPNETCORE_URLS")
            {
                continue;
            }
            var mapped = value;
            foreach (var (inside, outside) in mounts)
            {
                if (mapped.StartsWith(inside + "/", StringComparison.Ordinal))
                {
                    mapped = outside + mapped[inside.Length..];
                }
            }
            _bin.Environment[name] = mapped;
        }
        _bin.Environment.Remove("Jwt__SigningKey");
    }

    private static (string, string) Split(string assignment)
    {
        var equals = assignment.IndexOf('=', StringComparison.Ordinal);
        return (assignment[..equals], assignment[(equals + 1)..]);
    }

    private static List<string> Words(string line) =>
        [.. line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w.Trim('"'))];

    private static List<string> Block(string[] readme, string fence)
    {
        var start = Array.IndexOf(readme, fence);
        Assert.True(start >= 0, $"README.md has no {fence} block");
        return [.. readme.Skip(start + 1).TakeWhile(l => l != "```").Where(l => l.Length > 0 && !l.StartsWith('#'))];
    }

    private static int Bash(string line, string folder)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", line]) { WorkingDirectory = folder })!;
        process.WaitForExit();
        return process.ExitCode;
    }

    public void Dispose() => _bin.Dispose();
}
