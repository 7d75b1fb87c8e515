namespace CloudProviders.Domain;

/// <summary>What a provider said of a key, in one word. Only <see cref="Rejected"/> counts against the key.</summary>
internal enum KeyCheckResult
{
    /// <summary>The provider accepts the key (a 2xx).</summary>
    Valid,

    /// <summary>The provider refuses the key (401 or 403).</summary>
    Rejected,

    /// <summary>No answer about the key: a timeout, a DNS, connection or TLS failure, 429, a 5xx, or anything else.</summary>
    Unreachable,
}

/// <summary>One test of a key against its provider.</summary>
/// <param name="UpstreamStatus">The provider's HTTP status, where there was one.</param>
internal sealed record KeyCheck(KeyCheckResult Result, int? UpstreamStatus, DateTimeOffset CheckedAt);
