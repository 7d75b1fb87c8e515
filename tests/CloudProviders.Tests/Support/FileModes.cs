namespace CloudProviders.Tests.Support;

/// <summary>The file modes the key file tests give, by what each allows.</summary>
internal static class FileModes
{
    /// <summary>0600: the owner reads and writes, nobody else anything.</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>0644: what a Kubernetes secret mount gives by default.</summary>
    public const UnixFileMode WorldReadable = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>0664: the group may rewrite the file.</summary>
    public const UnixFileMode GroupWritable = WorldReadable | UnixFileMode.GroupWrite;

    /// <summary>0444: everyone reads, nobody writes.</summary>
    public const UnixFileMode ReadOnlyForAll = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
}
