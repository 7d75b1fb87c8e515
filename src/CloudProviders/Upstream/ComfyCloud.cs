using CloudProviders.Domain;
using CloudProviders.Metrics;

namespace CloudProviders.Upstream;

/// <summary>
/// ComfyUI Cloud's documented key check: <c>GET {ComfyCloud:BaseUrl}/api/user</c> with the key in
/// <c>X-API-Key</c>, and in nothing else: not in the URL, not to another host (no redirect is
/// followed, no proxy is used). The whole exchange is bounded by <c>ComfyCloud:TimeoutSeconds</c>,
/// and no more of the answer is read than its status line needs (at most 16 KB), never kept or logged.
/// </summary>
/// <remarks>Nothing is made at start: each test opens a connection of its own (<see cref="OneShotHttp"/>).</remarks>
internal sealed class ComfyCloud(Settings settings, TimeProvider time)
{
    public const string KeyHeader = "X-API-Key";
    public const string CheckPath = "/api/user";

    private static readonly string UserAgent = "cloud-providers/" + (typeof(ComfyCloud).Assembly.GetName().Version?.ToString(3) ?? "0");

    private readonly Uri _check = new(settings.ComfyCloudBaseUrl + CheckPath);

    /// <summary>Asks ComfyUI Cloud about the key. Never throws for anything the network or the provider does.</summary>
    public async Task<KeyCheck> CheckAsync(string apiKey, CancellationToken cancellation)
    {
        int? status = null;
        KeyCheckResult result;
        if (!OneShotHttp.IsHeaderSafe(apiKey))
        {
            // A key that cannot be sent as a header value as it is is no key the provider issued.
            result = KeyCheckResult.Rejected;
        }
        else
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            deadline.CancelAfter(TimeSpan.FromSeconds(settings.ComfyCloudTimeoutSeconds));
            try
            {
                status = await OneShotHttp.GetStatusAsync(_check, KeyHeader, apiKey, UserAgent, deadline.Token);
                result = ResultOf(status.Value);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
            {
                // A timeout, a refused or dropped connection, a name that does not resolve, a TLS
                // failure, or an answer that is not HTTP: none of it says anything about the key.
                cancellation.ThrowIfCancellationRequested();
                result = KeyCheckResult.Unreachable;
            }
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
}
