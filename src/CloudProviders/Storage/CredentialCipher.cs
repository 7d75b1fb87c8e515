using System.Security.Cryptography;
using System.Text;
using CloudProviders.Domain;

namespace CloudProviders.Storage;

/// <summary>
/// AES-256-GCM for provider keys at rest. The team and provider are the associated data, so a
/// ciphertext copied to another row fails to open. Layout: version (1) | nonce (12) | ciphertext | tag (16).
/// </summary>
internal sealed class CredentialCipher
{
    private const byte FormatVersion = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int Overhead = 1 + NonceSize + TagSize;

    private readonly byte[] _key;

    public CredentialCipher(byte[] key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("The master key must be 32 bytes.", nameof(key));
        }
        _key = key;
        CheckValue = CheckValueOf(key);
    }

    /// <summary>
    /// The key check value stored with the database: it tells whether a master key is the
    /// database's own without opening any ciphertext, and it reveals nothing of the key.
    /// </summary>
    public byte[] CheckValue { get; }

    public byte[] Seal(Guid teamId, string providerId, string plaintext)
    {
        var clear = Encoding.UTF8.GetBytes(plaintext);
        try
        {
            var sealedBytes = new byte[Overhead + clear.Length];
            sealedBytes[0] = FormatVersion;
            var nonce = sealedBytes.AsSpan(1, NonceSize);
            RandomNumberGenerator.Fill(nonce);
            using var aes = new AesGcm(_key, TagSize);
            aes.Encrypt(
                nonce,
                clear,
                sealedBytes.AsSpan(1 + NonceSize, clear.Length),
                sealedBytes.AsSpan(1 + NonceSize + clear.Length, TagSize),
                AssociatedData(teamId, providerId));
            return sealedBytes;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(clear);
        }
    }

    /// <exception cref="CryptographicException">The bytes were altered, moved to another row, or sealed under another key.</exception>
    public string Open(Guid teamId, string providerId, ReadOnlySpan<byte> sealedBytes)
    {
        if (sealedBytes.Length < Overhead || sealedBytes[0] != FormatVersion)
        {
            throw new CryptographicException("Unknown ciphertext format.");
        }
        var length = sealedBytes.Length - Overhead;
        var clear = new byte[length];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(
                sealedBytes.Slice(1, NonceSize),
                sealedBytes.Slice(1 + NonceSize, length),
                sealedBytes.Slice(1 + NonceSize + length, TagSize),
                clear,
                AssociatedData(teamId, providerId));
            return Encoding.UTF8.GetString(clear);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(clear);
        }
    }

    /// <summary>
    /// Loads the platform's cryptography library (OpenSSL) on a thread of its own. A server
    /// needs it before its first answer (the master key's check value, the first key's hash);
    /// loaded meanwhile, it overlaps the building of the host instead of following it.
    /// </summary>
    public static void LoadInBackground() =>
        new Thread(static () => HMACSHA256.HashData(new byte[32], Array.Empty<byte>())) { IsBackground = true }.Start();

    /// <summary>HMAC-SHA256 under the key of a fixed label.</summary>
    private static byte[] CheckValueOf(byte[] key) => HMACSHA256.HashData(key, "cloud-providers/master-key-check/v1"u8);

    private static byte[] AssociatedData(Guid teamId, string providerId) =>
        Encoding.UTF8.GetBytes($"cloud-providers/v1\n{TeamId.Format(teamId)}\n{providerId}");
}
