using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CloudProviders.Tests.Support;

/// <summary>The identity provider's keys for the tests, and tokens signed with them.</summary>
internal sealed class TestKeys : IDisposable
{
    public const string Issuer = "https://idp.test";
    public const string Audience = "cloud-providers";
    public const string Secret = "test-secret-that-is-at-least-32-bytes-long!";

    public RSA Rsa { get; } = RSA.Create(2048);
    public ECDsa Ec { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>A PEM file with both public keys, as Jwt:PublicKeysFile expects.</summary>
    public string PublicPem => Rsa.ExportSubjectPublicKeyInfoPem() + "\n" + Ec.ExportSubjectPublicKeyInfoPem() + "\n";

    public static string Hs256(string sub, Action<Dictionary<string, object>>? claims = null) =>
        Sign(new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Secret)), SecurityAlgorithms.HmacSha256), sub, claims);

    public string Rs256(string sub) => Sign(new SigningCredentials(new RsaSecurityKey(Rsa), SecurityAlgorithms.RsaSha256), sub, null);

    public string Ps256(string sub) => Sign(new SigningCredentials(new RsaSecurityKey(Rsa), SecurityAlgorithms.RsaSsaPssSha256), sub, null);

    public string Es256(string sub) => Sign(new SigningCredentials(new ECDsaSecurityKey(Ec), SecurityAlgorithms.EcdsaSha256), sub, null);

    private static string Sign(SigningCredentials credentials, string sub, Action<Dictionary<string, object>>? edit)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = sub };
        edit?.Invoke(claims);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = claims.Remove("iss", out var iss) ? (string)iss : Issuer,
            Audience = claims.Remove("aud", out var aud) ? (string)aud : Audience,
            Claims = claims,
            IssuedAt = now,
            Expires = now.AddMinutes(10),
            SigningCredentials = credentials,
        });
    }

    /// <summary>A compact JWS from raw header and payload JSON, HMAC-signed with the given bytes.</summary>
    public static string Craft(string headerJson, string payloadJson, byte[]? hmacKey = null, string? signature = null)
    {
        var signingInput = Base64UrlEncoder.Encode(headerJson) + "." + Base64UrlEncoder.Encode(payloadJson);
        signature ??= Base64UrlEncoder.Encode(HMACSHA256.HashData(hmacKey ?? Encoding.UTF8.GetBytes(Secret), Encoding.ASCII.GetBytes(signingInput)));
        return signingInput + "." + signature;
    }

    /// <summary>A payload that would pass every claim check now.</summary>
    public static string Payload(string sub = "\"alice\"", string? extra = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return $$"""{"iss":"{{Issuer}}","aud":"{{Audience}}","sub":{{sub}},"iat":{{now}},"exp":{{now + 600}}{{extra}}}""";
    }

    public void Dispose()
    {
        Rsa.Dispose();
        Ec.Dispose();
    }
}
