namespace CloudProviders.Storage;

/// <summary>How long to wait before trying a shared database again: 0.1 s, doubling, at most <see cref="Longest"/>.</summary>
internal static class Backoff
{
    public static readonly TimeSpan First = TimeSpan.FromMilliseconds(100);

    public static readonly TimeSpan Longest = TimeSpan.FromSeconds(5);

    public static TimeSpan After(TimeSpan wait) => wait * 2 < Longest ? wait * 2 : Longest;
}
