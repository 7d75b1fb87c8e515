using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace CloudProviders.Domain;

/// <summary>
/// The SHA-256 of a bearer token, computed when a connection presents it (<see cref="TokenHashMemo"/>).
/// The API key table stores it, the read caches and the JWT cache are keyed by it, so no cache
/// ever holds a token in plain form.
/// </summary>
internal readonly record struct TokenHash(UInt128 Low, UInt128 High)
{
    public static TokenHash Of(ReadOnlySpan<char> token)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var length = Encoding.UTF8.GetByteCount(token);
        var utf8 = length <= 1024 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(token, utf8);
        SHA256.HashData(utf8, hash);
        return new TokenHash(BinaryPrimitives.ReadUInt128LittleEndian(hash), BinaryPrimitives.ReadUInt128LittleEndian(hash[16..]));
    }

    /// <summary>The 32 bytes, as the database stores them.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[SHA256.HashSizeInBytes];
        BinaryPrimitives.WriteUInt128LittleEndian(bytes, Low);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(16), High);
        return bytes;
    }
}
