using Org.BouncyCastle.Crypto.Digests;

namespace CloudProviders.Auth;

/// <summary>
/// SHA-256 in managed code (BouncyCastle) for the request path, which hashes every token it sees.
/// The platform's <c>SHA256</c> goes through OpenSSL, whose loading and initialisation cost the
/// first request after a start 6-10 ms here (measured); a token is one to four blocks, which
/// managed code hashes in about a microsecond.
/// </summary>
internal static class Sha256
{
    public const int HashSizeInBytes = 32;

    [ThreadStatic]
    private static Sha256Digest? t_digest;

    public static void HashData(ReadOnlySpan<byte> data, Span<byte> hash)
    {
        // DoFinal resets the digest, so each thread reuses one.
        var digest = t_digest ??= new Sha256Digest();
        digest.BlockUpdate(data);
        digest.DoFinal(hash);
    }

    public static byte[] HashData(ReadOnlySpan<byte> data)
    {
        var hash = new byte[HashSizeInBytes];
        HashData(data, hash);
        return hash;
    }
}
