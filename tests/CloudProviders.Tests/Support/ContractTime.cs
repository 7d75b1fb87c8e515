using System.Globalization;
using System.Text.RegularExpressions;

namespace CloudProviders.Tests.Support;

/// <summary>The contract's timestamps as the public API page writes them: UTC, whole seconds, <c>Z</c> (<c>2025-06-01T12:00:00Z</c>).</summary>
internal static partial class ContractTime
{
    public static string Format(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]
    public static partial Regex Shape();
}
