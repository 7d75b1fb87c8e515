using System.Diagnostics.Metrics;

namespace CloudProviders.Metrics;

/// <summary>
/// The service's instruments, in <see cref="System.Diagnostics.Metrics"/>, the standard .NET API
/// that OpenTelemetry and dotnet-counters read as well as <c>/metrics</c>. Every label comes from a
/// short fixed list (route templates, methods, status codes, kinds, reasons), never from a team,
/// a user, a key or a path, so the series stay few and no secret can reach one.
/// </summary>
internal static class ServiceMetrics
{
    public const string MeterName = "CloudProviders";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Labels: <c>route</c> (the template, or <c>unmatched</c>), <c>method</c>, <c>status</c>, <c>caller</c> (jwt, sk, dk, cli, anonymous).</summary>
    public static readonly Counter<long> Requests = Meter.CreateCounter<long>(
        "cloud_providers_http_requests", description: "HTTP requests answered.");

    /// <summary>The same labels but <c>status</c> and <c>caller</c>.</summary>
    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>(
        "cloud_providers_http_request_duration_seconds", unit: "s", description: "Time to answer an HTTP request.");

    /// <summary>Label <c>reason</c>: missing, malformed, unknown_key, expired, revoked, bad_signature, bad_claims.</summary>
    public static readonly Counter<long> AuthRefusals = Meter.CreateCounter<long>(
        "cloud_providers_auth_refusals", description: "Bearer tokens refused with 401, by reason.");

    /// <summary>The read caches, as the <c>cache</c> label of <c>cloud_providers_cache_lookups</c> names them.</summary>
    public enum Cache { Key, Role, Status }


    /// <summary>
    /// Hits and misses per cache. Two or three lookups make every request, so each is one atomic
    /// increment here, read by an observable counter at collection time, rather than a
    /// measurement of its own.
    /// </summary>
    private static readonly long[] CacheLookupCounts = new long[EnumNames<Cache>.All.Length * 2];

    public static void CountCacheLookup(Cache cache, bool hit) =>
        Interlocked.Increment(ref CacheLookupCounts[(int)cache * 2 + (hit ? 0 : 1)]);

    /// <summary>Labels <c>cache</c> (key, role, status) and <c>result</c> (hit, miss).</summary>
    private static IEnumerable<Measurement<long>> ObserveCacheLookups()
    {
        for (var cache = 0; cache < EnumNames<Cache>.All.Length; cache++)
        {
            var label = new KeyValuePair<string, object?>("cache", EnumNames<Cache>.All[cache]);
            yield return new(Volatile.Read(ref CacheLookupCounts[cache * 2]), label, new KeyValuePair<string, object?>("result", "hit"));
            yield return new(Volatile.Read(ref CacheLookupCounts[cache * 2 + 1]), label, new KeyValuePair<string, object?>("result", "miss"));
        }
    }

    public static readonly Counter<long> CacheInvalidations = Meter.CreateCounter<long>(
        "cloud_providers_cache_invalidations", description: "Times the read caches were dropped because the data may have changed.");

    /// <summary>Label <c>engine</c> (sqlite, postgres).</summary>
    public static readonly Counter<long> StorageErrors = Meter.CreateCounter<long>(
        "cloud_providers_storage_errors", description: "Requests that failed on the database (each answered 503).");

    /// <summary>Label <c>action</c>: set, replace, revoke.</summary>
    public static readonly Counter<long> CredentialWrites = Meter.CreateCounter<long>(
        "cloud_providers_credential_writes", description: "Credential changes committed, by HTTP or the command line.");

    /// <summary>Label <c>result</c>: valid, rejected, unreachable. Stored and candidate keys alike.</summary>
    public static readonly Counter<long> CredentialTests = Meter.CreateCounter<long>(
        "cloud_providers_credential_tests", description: "Keys tested against their provider, by result.");

    /// <summary>When this process started, as the process collector's <c>process_start_time_seconds</c>.</summary>
    public static readonly double StartTimeSeconds = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    static ServiceMetrics()
    {
        Meter.CreateObservableCounter("cloud_providers_cache_lookups", ObserveCacheLookups, description: "Read cache lookups.");
        Meter.CreateObservableGauge("process_resident_memory_bytes", () => Environment.WorkingSet, unit: "By", description: "Resident memory.");
        Meter.CreateObservableCounter("process_cpu_seconds", () => Environment.CpuUsage.TotalTime.TotalSeconds, unit: "s", description: "CPU time, user and system.");
        Meter.CreateObservableGauge("process_start_time_seconds", () => StartTimeSeconds, unit: "s", description: "When the process started, in seconds since the Unix epoch.");
        Meter.CreateObservableCounter("dotnet_gc_collections", () => new[]
        {
            new Measurement<long>(GC.CollectionCount(0), new KeyValuePair<string, object?>("generation", "0")),
            new Measurement<long>(GC.CollectionCount(1), new KeyValuePair<string, object?>("generation", "1")),
            new Measurement<long>(GC.CollectionCount(2), new KeyValuePair<string, object?>("generation", "2")),
        }, description: "Garbage collections, by generation.");
        Meter.CreateObservableCounter("dotnet_gc_allocated_bytes", () => GC.GetTotalAllocatedBytes(), unit: "By", description: "Bytes allocated on the managed heap.");
    }

    /// <summary>Status codes as label values, made once.</summary>
    public static string StatusLabel(int status) => status is >= 100 and < 600 ? StatusLabels[status - 100] : "other";

    private static readonly string[] StatusLabels = [.. Enumerable.Range(100, 500).Select(code => code.ToString(System.Globalization.CultureInfo.InvariantCulture))];
}
