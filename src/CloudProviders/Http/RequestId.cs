using System.Buffers;

namespace CloudProviders.Http;

/// <summary>
/// The id a request is found by in the logs: an incoming <c>X-Request-ID</c> of a safe shape is
/// kept, otherwise the service makes one. Either way it is echoed in the response.
/// </summary>
internal static class RequestId
{
    public const string Header = "X-Request-ID";
    private const int MaxLength = 128;

    public static string For(HttpRequest request)
    {
        var incoming = request.Headers[Header];
        return incoming.Count == 1 && IsSafe(incoming[0]) ? incoming[0]! : NewId();
    }

    /// <summary>Letters, digits and <c>-_.:</c>, at most 128: nothing that could forge a log line or a header.</summary>
    private static bool IsSafe(string? id) =>
        id is { Length: > 0 and <= MaxLength } && !id.AsSpan().ContainsAnyExcept(Characters);

    private static readonly SearchValues<char> Characters =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_.:");

    /// <summary>
    /// 128 random bits in 32 hex digits: unique enough to find a request by, and no secret, so the
    /// fast generator will do (the cryptographic one costs a call into OpenSSL and a syscall on
    /// every request).
    /// </summary>
    private static string NewId()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}
