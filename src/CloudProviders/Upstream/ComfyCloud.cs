using System.Buffers;
using System.Net;
using CloudProviders.Domain;
using CloudProviders.Metrics;

namespace CloudProviders.Upstream;

/// <summary>
/// ComfyUI Cloud's documented key check: <c>GET {ComfyCloud:BaseUrl}/api/user</c> with the key in
/// <c>X-API-Key</c>, and in nothing else: not in the URL, not to another host (no redirect is
/// followed, no proxy is used). The whole exchange is bounded by <c>ComfyCloud:TimeoutSeconds</c>,
/// and at most 64 KB of the answer is read, and never kept or logged.
/// </summary>
/// <remarks>The client is made at the first test, not at start: most processes never test a key.</remarks>
internal sealed class ComfyCloud(Settings settings, TimeProvider time) : IDisposable
{
    public const string KeyHeader = "X-API-Key";
    public const string CheckPath = "/api/user";
    public const int MaxAnswerBytes = 64 * 1024;

    private readonly Lazy<HttpClient> _client = new(() => new HttpClient(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        ActivityHeadersPropagator = null,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
        DefaultRequestVersion = HttpVersion.Version11,
    });

    private readonly Uri _check = new(settings.ComfyCloudBaseUrl + CheckPath);

    /// <summary>Asks ComfyUI Cloud about the key. Never throws for anything the network or the provider does.</summary>
    public async Task<KeyCheck> CheckAsync(string apiKey, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(TimeSpan.FromSeconds(settings.ComfyCloudTimeoutSeconds));
        int? status = null;
        KeyCheckResult result;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, _check);
            request.Headers.TryAddWithoutValidation(KeyHeader, apiKey);
            using var response = await _client.Value.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            status = (int)response.StatusCode;
            result = ResultOf(status.Value);
            await Drain(response, deadline.Token);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            // A timeout, a refused or dropped connection, a name that does not resolve, a TLS
            // failure, or a reply cut off after its status: none of it says anything about the key.
            cancellation.ThrowIfCancellationRequested();
            result = status is null ? KeyCheckResult.Unreachable : ResultOf(status.Value);
        }
        ServiceMetrics.CredentialTests.Add(1, new KeyValuePair<string, object?>("result", result.Name()));
        return new KeyCheck(result, status, time.GetUtcNow());
    }

    private static KeyCheckResult ResultOf(int status) => status switch
    {
        >= 200 and < 300 => KeyCheckResult.Valid,
        401 or 403 => KeyCheckResult.Rejected,
        _ => KeyCheckResult.Unreachable,
    };

    /// <summary>Reads the answer to its end or to <see cref="MaxAnswerBytes"/>, whichever comes first, and throws it away.</summary>
    private static async Task Drain(HttpResponseMessage response, CancellationToken cancellation)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellation);
            var total = 0;
            int read;
            while (total < MaxAnswerBytes && (read = await body.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, MaxAnswerBytes - total)), cancellation)) > 0)
            {
                total += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }
}
