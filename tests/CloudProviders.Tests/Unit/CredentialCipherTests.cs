using System.Security.Cryptography;
using System.Text;
using CloudProviders.Storage;

namespace CloudProviders.Tests.Unit;

public sealed class CredentialCipherTests
{
    private static readonly Guid Team = Guid.NewGuid();
    private readonly CredentialCipher _cipher = new(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void A_sealed_key_opens_to_itself_and_does_not_contain_it()
    {
        var sealedBytes = _cipher.Seal(Team, "comfy_cloud", "comfyui-secret-key-value");
        Assert.Equal("comfyui-secret-key-value", _cipher.Open(Team, "comfy_cloud", sealedBytes));
        Assert.DoesNotContain("secret", Encoding.UTF8.GetString(sealedBytes), StringComparison.Ordinal);
    }

    [Fact]
    public void Each_seal_uses_a_fresh_nonce()
    {
        Assert.NotEqual(_cipher.Seal(Team, "comfy_cloud", "same"), _cipher.Seal(Team, "comfy_cloud", "same"));
    }

    [Fact]
    public void A_ciphertext_moved_to_another_team_or_provider_does_not_open()
    {
        var sealedBytes = _cipher.Seal(Team, "comfy_cloud", "key");
        Assert.ThrowsAny<CryptographicException>(() => _cipher.Open(Guid.NewGuid(), "comfy_cloud", sealedBytes));
        Assert.ThrowsAny<CryptographicException>(() => _cipher.Open(Team, "other", sealedBytes));
    }

    [Fact]
    public void A_tampered_ciphertext_or_another_master_key_does_not_open()
    {
        var sealedBytes = _cipher.Seal(Team, "comfy_cloud", "key");
        sealedBytes[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => _cipher.Open(Team, "comfy_cloud", sealedBytes));
        var other = new CredentialCipher(RandomNumberGenerator.GetBytes(32));
        Assert.ThrowsAny<CryptographicException>(() => other.Open(Team, "comfy_cloud", _cipher.Seal(Team, "comfy_cloud", "key")));
    }
}
