using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Unit;

/// <summary>
/// The folders of the service depend one way: Cli → Http → Upstream and Auth → Storage → Domain, with Logging
/// and Metrics beside them. A request runs the same way: Http reads it, Auth identifies and decides, Storage
/// looks up. Checked on every source file's <c>using</c> directives and qualified names.
/// </summary>
public sealed class DependencyRuleTests
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Cli"] = ["Http", "Upstream", "Auth", "Storage", "Domain", "Logging", "Metrics"],
        ["Http"] = ["Upstream", "Auth", "Storage", "Domain", "Logging", "Metrics"],
        ["Upstream"] = ["Storage", "Domain", "Metrics"],
        ["Auth"] = ["Storage", "Domain", "Metrics"],
        ["Storage"] = ["Domain", "Metrics"],
        ["Domain"] = [],
        ["Logging"] = [],
        ["Metrics"] = [],
    };

    /// <summary>The composition root and the entry point may use every folder; the other files at the top use none.</summary>
    private static readonly string[] CompositionRoot = ["App.cs", "ServiceRegistration.cs", "Program.cs"];

    [Fact]
    public void Folders_depend_on_each_other_in_one_direction_only()
    {
        var source = Path.Combine(Repository.Root, "src", "CloudProviders");
        var separator = Path.DirectorySeparatorChar;
        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith($"obj{separator}", StringComparison.Ordinal) || relative.StartsWith($"bin{separator}", StringComparison.Ordinal) || CompositionRoot.Contains(relative))
            {
                continue;
            }
            var folder = relative.Contains(separator, StringComparison.Ordinal) ? relative.Split(separator)[0] : null;
            problems.AddRange(Violations(folder, File.ReadAllText(file)).Select(used => $"{relative} uses {used}"));
        }
        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("Storage", "using CloudProviders.Http;\nnamespace CloudProviders.Storage;", "Http")]
    [InlineData("Auth", "namespace CloudProviders.Auth;\nclass A { object B => CloudProviders.Cli.ExitCodes.Ok; }", "Cli")]
    [InlineData(null, "namespace CloudProviders;\nusing CloudProviders.Storage;", "Storage")]
    public void A_backward_dependency_is_found(string? folder, string text, string used) =>
        Assert.Equal([used], Violations(folder, text));

    /// <summary>The one file of each optional part of the build where its build switch is read.</summary>
    private static readonly string[] PartEdges =
    [
        Path.Combine("Storage", "Postgres", "PostgresEngine.cs"),
        Path.Combine("Http", "InProcessTls.cs"),
        Path.Combine("Http", "OpenApi", "ApiDescriptionGenerator.cs"),
    ];

    [Fact]
    public void Build_switches_stay_at_the_edge_of_each_optional_part()
    {
        var source = Path.Combine(Repository.Root, "src", "CloudProviders");
        var separator = Path.DirectorySeparatorChar;
        var switched = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(source, file))
            .Where(relative => !relative.StartsWith($"obj{separator}", StringComparison.Ordinal) && !relative.StartsWith($"bin{separator}", StringComparison.Ordinal))
            .Where(relative => HasBuildSwitch(File.ReadAllText(Path.Combine(source, relative))))
            .Where(relative => !PartEdges.Contains(relative));
        Assert.Empty(switched);
    }

    [Fact]
    public void The_composition_root_reads_no_build_switch()
    {
        var source = Path.Combine(Repository.Root, "src", "CloudProviders");
        Assert.All([.. CompositionRoot, Path.Combine("Cli", "ServeCommand.cs")], file =>
            Assert.False(File.Exists(Path.Combine(source, file)) && HasBuildSwitch(File.ReadAllText(Path.Combine(source, file))), $"{file} reads a build switch"));
    }

    [Theory]
    [InlineData("class A\n{\n#if POSTGRES\n    int B;\n#endif\n}", true)]
    [InlineData("    #if IN_PROCESS_TLS\n", true)]
    [InlineData("// Without #if here: the part registers itself.\nclass A;", false)]
    public void A_build_switch_is_found(string text, bool found) =>
        Assert.Equal(found, HasBuildSwitch(text));

    /// <summary>A conditional compilation directive on a line of its own.</summary>
    private static bool HasBuildSwitch(string text) =>
        text.Split('\n').Any(line => line.TrimStart().StartsWith("#if", StringComparison.Ordinal) || line.TrimStart().StartsWith("#elif", StringComparison.Ordinal));

    /// <summary>The folders a file in <paramref name="folder"/> (null: the top) uses but may not.</summary>
    private static IEnumerable<string> Violations(string? folder, string text)
    {
        var allowed = folder is null ? [] : Allowed.TryGetValue(folder, out var list) ? list
            : throw new InvalidOperationException($"No rule for the folder {folder}: add it to {nameof(Allowed)}.");
        return Allowed.Keys
            .Where(other => other != folder && !allowed.Contains(other))
            .Where(other => text.Contains($"using CloudProviders.{other};", StringComparison.Ordinal) || text.Contains($"CloudProviders.{other}.", StringComparison.Ordinal));
    }
}
