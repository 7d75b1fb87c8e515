using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;

namespace CloudProviders.Domain;

/// <summary>
/// SHA-256 for the request path, which hashes every token it sees. An API key (one block) is
/// hashed in managed code (BouncyCastle), so that the first request after a start need not load
/// and initialise OpenSSL, and because for one block a call into OpenSSL costs more than the hash.
/// Longer inputs (JWTs) go to the platform's OpenSSL, whose SHA extensions are faster there, and
/// which a JWT caller needs for the signature anyway.
/// </summary>
internal static class Sha256
{
    public const int HashSizeInBytes = 32;

    /// <summary>The longest input that fits one block with SHA-256's padding.</summary>
    private const int OneBlock = 55;

    [ThreadStatic]
    private static Sha256Digest? t_digest;

    /// <summary>OpenSSL's context for longer inputs, one per thread, reset rather than made anew for each.</summary>
    [ThreadStatic]
    private static IncrementalHash? t_platform;

    public static void HashData(ReadOnlySpan<byte> data, Span<byte> hash)
    {
        if (data.Length > OneBlock)
        {
            var platform = t_platform ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            platform.AppendData(data);
            platform.GetHashAndReset(hash);
            return;
        }
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
