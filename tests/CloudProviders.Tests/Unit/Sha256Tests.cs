using System.Security.Cryptography;
using System.Text;
using CloudProviders.Domain;
using CsCheck;

namespace CloudProviders.Tests.Unit;

/// <summary>
/// The request path's SHA-256 agrees with the platform's on both of its paths (managed up to one
/// block), so stored key hashes still match; the managed HMAC agrees too, so stored master key
/// check values still match.
/// </summary>
public sealed class Sha256Tests
{
    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void Known_answers_from_FIPS_180_4_match(string message, string expected) =>
        Assert.Equal(expected, Convert.ToHexStringLower(Sha256.HashData(Encoding.ASCII.GetBytes(message))));

    [Fact]
    public void Any_input_hashes_as_the_platform_hashes_it_across_block_boundaries() =>
        Gen.Byte.Array[0, 300].Sample(data =>
        {
            Span<byte> hash = stackalloc byte[Sha256.HashSizeInBytes];
            Sha256.HashData(data, hash);
            // Twice on one thread: the reused OpenSSL context (longer inputs) starts clean each time.
            return hash.SequenceEqual(SHA256.HashData(data)) && Sha256.HashData(data).AsSpan().SequenceEqual(hash);
        }, iter: 3_000);

    [Fact]
    public void A_key_hashes_to_what_the_platform_stored_before()
    {
        var key = ApiKeys.Generate(ApiKeyKind.Sk);
        Assert.Equal(SHA256.HashData(Encoding.ASCII.GetBytes(key)), TokenHash.Of(key).ToArray());
    }

    [Fact]
    public void Hmac_known_answer_from_RFC_4231_matches()
    {
        var key = Enumerable.Repeat((byte)0x0b, 20).ToArray();
        Assert.Equal(
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            Convert.ToHexStringLower(Sha256.Hmac(key, "Hi There"u8)));
    }

    [Fact]
    public void Any_hmac_is_the_platforms_across_block_boundaries() =>
        Gen.Select(Gen.Byte.Array[0, 64], Gen.Byte.Array[0, 300]).Sample((key, message) =>
            Sha256.Hmac(key, message).AsSpan().SequenceEqual(HMACSHA256.HashData(key, message)), iter: 3_000);

    [Fact]
    public void A_key_longer_than_a_block_is_refused() =>
        Assert.Throws<ArgumentException>(() => Sha256.Hmac(new byte[65], "x"u8));
}
