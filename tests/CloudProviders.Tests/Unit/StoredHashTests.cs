using CloudProviders.Domain;
using CloudProviders.Storage;

namespace CloudProviders.Tests.Unit;

/// <summary>
/// The hashes a database already holds stay the ones this binary computes: an API key's row is
/// found by its token's SHA-256, and a master key is recognised by its HMAC check value.
/// </summary>
public sealed class StoredHashTests
{
    [Fact]
    public void A_token_hashes_to_its_SHA_256() =>
        Assert.Equal("1460db1b6902f8b1fc2a40d9381a24d0fd22c3bc1b2c6f999c521da73776fbe0", Convert.ToHexStringLower(TokenHash.Of("sk-abc").ToArray()));

    [Fact]
    public void A_master_key_check_value_is_the_HMAC_SHA_256_of_its_label() =>
        Assert.Equal(
            "908da5b64458b5260ac1bb50c93991a127d164f0615d748bacf8981716b229e9",
            Convert.ToHexStringLower(new CredentialCipher([.. Enumerable.Range(0, 32).Select(i => (byte)i)]).CheckValue));
}
