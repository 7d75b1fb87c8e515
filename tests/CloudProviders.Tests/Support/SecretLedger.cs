using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace CloudProviders.Tests.Support;

/// <summary>
/// The suite-wide "no secrets anywhere" check. Every secret a test sends or makes is written down
/// here: each <c>Authorization</c> value and each <c>api_key</c> in a request body (through
/// <see cref="RecordingHandler"/>), every API key the fixtures create, every key piped to the
/// command line. Every fixture hands in what the service left behind (its logs, every response
/// body its clients saw, and the database's main file, WAL and shared memory) when it is disposed,
/// and the test that used it fails if any secret appears there in plain form.
/// </summary>
internal static class SecretLedger
{
    /// <summary>Shorter fragments could turn up by chance in random bytes or ordinary text.</summary>
    private const int MinimumFragment = 12;

    private static readonly ConcurrentDictionary<string, string> Fragments = new(StringComparer.Ordinal);
    private static int _artifactsScanned;

    public static int SecretsRecorded => Fragments.Count;

    public static int ArtifactsScanned => _artifactsScanned;

    /// <summary>
    /// Records the parts of a secret that must never appear: the whole value; for an API key, what
    /// follows its public 12-character id; for a JWT, its signature; for a ComfyUI key, what its
    /// preview hides (all but the first eight and last four characters).
    /// </summary>
    public static void Record(string? secret)
    {
        if (string.IsNullOrEmpty(secret))
        {
            return;
        }
        Add(secret, secret);
        if (secret.StartsWith("sk-", StringComparison.Ordinal) || secret.StartsWith("dk-", StringComparison.Ordinal))
        {
            Add(secret[Math.Min(12, secret.Length)..], secret);
        }
        else if (secret.Count(c => c == '.') >= 2)
        {
            Add(secret[(secret.LastIndexOf('.') + 1)..], secret);
        }
        else if (secret.Length >= 20)
        {
            Add(secret[8..^4], secret);
        }
    }

    /// <summary>Records the bearer token of an <c>Authorization</c> value, and the value itself.</summary>
    public static void RecordAuthorization(string? value)
    {
        if (value is null)
        {
            return;
        }
        Record(value);
        Record(value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value[7..].Trim() : null);
    }

    /// <summary>Throws, naming the artifact, if any recorded secret appears in it.</summary>
    public static void AssertClean(string artifact, string text)
    {
        Interlocked.Increment(ref _artifactsScanned);
        foreach (var (fragment, secret) in Fragments)
        {
            if (text.Contains(fragment, StringComparison.Ordinal))
            {
                throw new SecretLeakException($"A secret ({Describe(secret)}) appears in plain form in {artifact}.");
            }
        }
    }

    /// <summary>Scans a database's files as bytes: main file, WAL and shared memory.</summary>
    public static void AssertDatabaseClean(string databasePath)
    {
        foreach (var path in new[] { databasePath, databasePath + "-wal", databasePath + "-shm" })
        {
            if (TryRead(path) is { } bytes)
            {
                // Latin-1 maps every byte to one char, so an ASCII or UTF-8 secret matches byte for byte.
                AssertClean(path, Encoding.Latin1.GetString(bytes));
            }
        }
    }

    private static byte[]? TryRead(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void Add(string fragment, string secret)
    {
        if (fragment.Length >= MinimumFragment)
        {
            Fragments.TryAdd(fragment, secret);
        }
    }

    /// <summary>Enough to find the test, never the secret itself.</summary>
    private static string Describe(string secret) => $"{secret[..Math.Min(6, secret.Length)]}..., {secret.Length} characters";
}

internal sealed class SecretLeakException(string message) : Exception(message);

/// <summary>
/// Sits in every test client: records the secrets each request carries, and scans each response
/// body (where errors would echo them) once it is read.
/// </summary>
internal sealed class RecordingHandler : DelegatingHandler
{
    /// <summary>Whether requests go to a real socket (a published binary), not to the in-process test server.</summary>
    private readonly bool _overSocket;

    public RecordingHandler(HttpMessageHandler? inner = null)
    {
        if (inner is not null)
        {
            InnerHandler = inner;
            _overSocket = true;
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.TryGetValues("Authorization", out var values))
        {
            foreach (var value in values)
            {
                SecretLedger.RecordAuthorization(value);
            }
        }
        if (request.Content is { } content && IsJson(content.Headers.ContentType))
        {
            RecordApiKey(await content.ReadAsStringAsync(cancellationToken));
        }
        var response = await base.SendAsync(request, cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        SecretLedger.AssertClean($"the body of a {(int)response.StatusCode} response to {request.Method} {request.RequestUri?.AbsolutePath}",
            await response.Content.ReadAsStringAsync(cancellationToken));
        await ResponseLog.RecordAsync(request, response, _overSocket, cancellationToken);
        return response;
    }

    private static bool IsJson(MediaTypeHeaderValue? type) =>
        type?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) ?? false;

    private static void RecordApiKey(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("api_key", out var key)
                && key.ValueKind == JsonValueKind.String)
            {
                SecretLedger.Record(key.GetString());
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // A malformed body is a test of the reader; it stores nothing.
        }
    }
}
