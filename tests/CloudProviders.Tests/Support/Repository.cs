namespace CloudProviders.Tests.Support;

/// <summary>The repository the tests run from: where the published binaries, the README and the Dockerfile are.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CloudProviders.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("Cannot find the repository root (CloudProviders.sln).");
    }
}
