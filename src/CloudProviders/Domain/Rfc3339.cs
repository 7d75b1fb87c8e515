using System.Globalization;

namespace CloudProviders.Domain;

/// <summary>The contract's timestamps, on the wire and on the command line alike: UTC, whole seconds, <c>Z</c> (<c>2025-06-01T12:00:00Z</c>).</summary>
internal static class Rfc3339
{
    public const string Pattern = "yyyy-MM-dd'T'HH:mm:ss'Z'";

    public static string Format(DateTimeOffset at) => at.UtcDateTime.ToString(Pattern, CultureInfo.InvariantCulture);
}
