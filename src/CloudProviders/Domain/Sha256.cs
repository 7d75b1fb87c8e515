using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace CloudProviders.Domain;

/// <summary>
/// SHA-256 (FIPS 180-4) for the request path, which hashes every token it sees, and HMAC-SHA256
/// (RFC 2104) for the master key's check value. Short inputs (an API key is one block) are hashed
/// here in managed code: the first request after a start need not load and initialise OpenSSL, and
/// for one block a call into OpenSSL costs more than the hash. Longer inputs (JWTs) go to the
/// platform's OpenSSL, whose SHA extensions are faster there, and which a JWT caller needs for the
/// signature anyway. The managed code has no branch and no table index that depends on the data.
/// </summary>
internal static class Sha256
{
    public const int HashSizeInBytes = 32;

    private const int BlockSize = 64;

    /// <summary>The longest input that fits one block with SHA-256's padding (a 0x80 byte and the 8-byte length).</summary>
    private const int OneBlock = BlockSize - 9;

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
        Managed(data, hash);
    }

    public static byte[] HashData(ReadOnlySpan<byte> data)
    {
        var hash = new byte[HashSizeInBytes];
        HashData(data, hash);
        return hash;
    }

    /// <summary>HMAC-SHA256 with a key of at most one block, in managed code.</summary>
    public static byte[] Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message)
    {
        if (key.Length > BlockSize)
        {
            throw new ArgumentException("HMAC keys longer than a block are not supported here.", nameof(key));
        }
        var inner = new byte[BlockSize + message.Length];
        var outer = new byte[BlockSize + HashSizeInBytes];
        try
        {
            key.CopyTo(inner);
            key.CopyTo(outer);
            for (var i = 0; i < BlockSize; i++)
            {
                inner[i] ^= 0x36;
                outer[i] ^= 0x5c;
            }
            message.CopyTo(inner.AsSpan(BlockSize));
            Managed(inner, outer.AsSpan(BlockSize));
            var mac = new byte[HashSizeInBytes];
            Managed(outer, mac);
            return mac;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(inner);
            CryptographicOperations.ZeroMemory(outer);
        }
    }

    /// <summary>SHA-256 of any input, in managed code.</summary>
    [SkipLocalsInit]
    private static void Managed(ReadOnlySpan<byte> data, Span<byte> hash)
    {
        Span<uint> state = stackalloc uint[8];
        InitialState.CopyTo(state);
        var whole = data.Length - data.Length % BlockSize;
        for (var offset = 0; offset < whole; offset += BlockSize)
        {
            Compress(state, data.Slice(offset, BlockSize));
        }

        // The tail, the 0x80 byte and the length in bits: one block, or two when the tail leaves no room.
        Span<byte> last = stackalloc byte[2 * BlockSize];
        var tail = data[whole..];
        var length = tail.Length <= OneBlock ? BlockSize : 2 * BlockSize;
        last[..length].Clear();
        tail.CopyTo(last);
        last[tail.Length] = 0x80;
        BinaryPrimitives.WriteUInt64BigEndian(last[(length - 8)..], (ulong)data.Length * 8);
        for (var offset = 0; offset < length; offset += BlockSize)
        {
            Compress(state, last.Slice(offset, BlockSize));
        }

        for (var i = 0; i < state.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(hash[(i * 4)..], state[i]);
        }
    }

    /// <summary>One block into the state: the message schedule, then 64 rounds unrolled by eight, so the working variables rotate by name rather than by copying.</summary>
    [SkipLocalsInit]
    private static void Compress(Span<uint> state, ReadOnlySpan<byte> block)
    {
        Span<uint> schedule = stackalloc uint[64];
        ref var w = ref MemoryMarshal.GetReference(schedule);
        for (var i = 0; i < 16; i++)
        {
            Unsafe.Add(ref w, i) = BinaryPrimitives.ReadUInt32BigEndian(block[(i * 4)..]);
        }
        for (var i = 16; i < 64; i++)
        {
            uint x = Unsafe.Add(ref w, i - 15), y = Unsafe.Add(ref w, i - 2);
            var s0 = BitOperations.RotateRight(x, 7) ^ BitOperations.RotateRight(x, 18) ^ (x >> 3);
            var s1 = BitOperations.RotateRight(y, 17) ^ BitOperations.RotateRight(y, 19) ^ (y >> 10);
            Unsafe.Add(ref w, i) = Unsafe.Add(ref w, i - 16) + s0 + Unsafe.Add(ref w, i - 7) + s1;
        }

        ref var k = ref MemoryMarshal.GetReference(RoundConstants);
        uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
        for (var i = 0; i < 64; i += 8)
        {
            Round(a, b, c, ref d, e, f, g, ref h, Unsafe.Add(ref k, i) + Unsafe.Add(ref w, i));
            Round(h, a, b, ref c, d, e, f, ref g, Unsafe.Add(ref k, i + 1) + Unsafe.Add(ref w, i + 1));
            Round(g, h, a, ref b, c, d, e, ref f, Unsafe.Add(ref k, i + 2) + Unsafe.Add(ref w, i + 2));
            Round(f, g, h, ref a, b, c, d, ref e, Unsafe.Add(ref k, i + 3) + Unsafe.Add(ref w, i + 3));
            Round(e, f, g, ref h, a, b, c, ref d, Unsafe.Add(ref k, i + 4) + Unsafe.Add(ref w, i + 4));
            Round(d, e, f, ref g, h, a, b, ref c, Unsafe.Add(ref k, i + 5) + Unsafe.Add(ref w, i + 5));
            Round(c, d, e, ref f, g, h, a, ref b, Unsafe.Add(ref k, i + 6) + Unsafe.Add(ref w, i + 6));
            Round(b, c, d, ref e, f, g, h, ref a, Unsafe.Add(ref k, i + 7) + Unsafe.Add(ref w, i + 7));
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }

    /// <summary>
    /// One round, with the round constant and schedule word added in <paramref name="kw"/>:
    /// d += T1 and h = T1 + T2. Σ1(e) = ROTR6(e ⊕ ROTR5(e ⊕ ROTR14(e))) and
    /// Σ0(a) = ROTR2(a ⊕ ROTR11(a ⊕ ROTR9(a))) are the standard's sums in fewer rotations.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round(uint a, uint b, uint c, ref uint d, uint e, uint f, uint g, ref uint h, uint kw)
    {
        var t1 = h + BitOperations.RotateRight(e ^ BitOperations.RotateRight(e ^ BitOperations.RotateRight(e, 14), 5), 6)
            + (g ^ (e & (f ^ g))) + kw;
        d += t1;
        h = t1 + BitOperations.RotateRight(a ^ BitOperations.RotateRight(a ^ BitOperations.RotateRight(a, 9), 11), 2)
            + ((a & b) | (c & (a | b)));
    }

    private static ReadOnlySpan<uint> InitialState =>
    [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];

    private static ReadOnlySpan<uint> RoundConstants =>
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];
}
