using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace CloudProviders.Auth;

/// <summary>
/// The keys that verify user JWTs, each with the algorithms it may verify: HS256 for the shared
/// secret; RS256 and PS256 for RSA keys; ES256, ES384 or ES512 for an EC key by its curve.
/// A symmetric key never verifies an asymmetric algorithm, nor the other way round.
/// </summary>
internal sealed class SigningKeys
{
    public const int MinSecretBytes = 32;
    public const int MinRsaBits = 2048;

    private SigningKeys(IReadOnlyList<SecurityKey> keys, IReadOnlySet<string> algorithms)
    {
        Keys = keys;
        Algorithms = algorithms;
    }

    public IReadOnlyList<SecurityKey> Keys { get; }

    public IReadOnlySet<string> Algorithms { get; }

    public static SigningKeys Load(Settings settings)
    {
        var keys = new List<SecurityKey>();
        var algorithms = new HashSet<string>(StringComparer.Ordinal);
        if (settings.JwtSigningKey is { } secret)
        {
            var bytes = Encoding.UTF8.GetBytes(secret);
            if (bytes.Length < MinSecretBytes)
            {
                throw new ConfigurationException($"Jwt:SigningKey must be at least {MinSecretBytes} bytes of UTF-8.");
            }
            keys.Add(new SymmetricSecurityKey(bytes));
            algorithms.Add(SecurityAlgorithms.HmacSha256);
        }
        if (settings.JwtPublicKeysFile is { } file)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ConfigurationException(e is FileNotFoundException or DirectoryNotFoundException
                    ? $"Cannot read Jwt:PublicKeysFile {file}: it does not exist."
                    : $"Cannot read Jwt:PublicKeysFile {file}: check that it is a readable file.");
            }
            var loaded = text.TrimStart().StartsWith('{') ? FromJwks(text, file) : FromPem(text, file);
            if (loaded.Count == 0)
            {
                throw new ConfigurationException($"Jwt:PublicKeysFile {file} holds no RSA or EC public key.");
            }
            foreach (var key in loaded)
            {
                keys.Add(key);
                algorithms.UnionWith(AlgorithmsFor(key));
            }
        }
        return new SigningKeys(keys, algorithms);
    }

    private static IEnumerable<string> AlgorithmsFor(SecurityKey key) => key switch
    {
        RsaSecurityKey => [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256],
        ECDsaSecurityKey ec => [ec.KeySize switch
        {
            256 => SecurityAlgorithms.EcdsaSha256,
            384 => SecurityAlgorithms.EcdsaSha384,
            _ => SecurityAlgorithms.EcdsaSha512,
        }],
        _ => [],
    };

    private static List<SecurityKey> FromPem(string text, string file)
    {
        var keys = new List<SecurityKey>();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label].ToString();
            var der = Convert.FromBase64String(rest[fields.Base64Data].ToString());
            keys.Add(label switch
            {
                "PUBLIC KEY" => FromSubjectPublicKeyInfo(der, file),
                "RSA PUBLIC KEY" => Rsa(r => r.ImportRSAPublicKey(der, out _), file),
                _ => throw new ConfigurationException($"Jwt:PublicKeysFile {file} holds a \"{label}\" block; only public keys are accepted."),
            });
            rest = rest[fields.Location.End..];
        }
        if (keys.Count == 0 && text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            throw new ConfigurationException($"Jwt:PublicKeysFile {file} is not valid PEM.");
        }
        return keys;
    }

    private static SecurityKey FromSubjectPublicKeyInfo(byte[] der, string file)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportSubjectPublicKeyInfo(der, out _);
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            return Ec(e => e.ImportSubjectPublicKeyInfo(der, out _), file);
        }
        return Checked(rsa, file);
    }

    private static List<SecurityKey> FromJwks(string text, string file)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var keys = new List<SecurityKey>();
            foreach (var jwk in document.RootElement.GetProperty("keys").EnumerateArray())
            {
                if (jwk.TryGetProperty("use", out var use) && use.GetString() != "sig")
                {
                    continue;
                }
                var kid = jwk.TryGetProperty("kid", out var k) ? k.GetString() : null;
                SecurityKey key = jwk.GetProperty("kty").GetString() switch
                {
                    "RSA" => Rsa(r => r.ImportParameters(new RSAParameters
                    {
                        Modulus = Base64UrlEncoder.DecodeBytes(jwk.GetProperty("n").GetString()),
                        Exponent = Base64UrlEncoder.DecodeBytes(jwk.GetProperty("e").GetString()),
                    }), file),
                    "EC" => Ec(e => e.ImportParameters(new ECParameters
                    {
                        Curve = CurveFor(jwk.GetProperty("crv").GetString(), file),
                        Q = new ECPoint
                        {
                            X = Base64UrlEncoder.DecodeBytes(jwk.GetProperty("x").GetString()),
                            Y = Base64UrlEncoder.DecodeBytes(jwk.GetProperty("y").GetString()),
                        },
                    }), file),
                    var kty => throw new ConfigurationException($"Jwt:PublicKeysFile {file} has a key of type \"{kty}\"; only RSA and EC are accepted."),
                };
                key.KeyId = kid;
                keys.Add(key);
            }
            return keys;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new ConfigurationException($"Jwt:PublicKeysFile {file} is not a valid JWKS document.");
        }
    }

    private static bool IsNistCurve(ECCurve curve) =>
        curve.IsNamed && curve.Oid.Value is "1.2.840.10045.3.1.7" or "1.3.132.0.34" or "1.3.132.0.35";

    private static ECCurve CurveFor(string? crv, string file) => crv switch
    {
        "P-256" => ECCurve.NamedCurves.nistP256,
        "P-384" => ECCurve.NamedCurves.nistP384,
        "P-521" => ECCurve.NamedCurves.nistP521,
        _ => throw new ConfigurationException($"Jwt:PublicKeysFile {file} has an EC key on curve \"{crv}\"; only P-256, P-384 and P-521 are accepted."),
    };

    private static RsaSecurityKey Rsa(Action<RSA> import, string file)
    {
        var rsa = RSA.Create();
        try
        {
            import(rsa);
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            throw new ConfigurationException($"Jwt:PublicKeysFile {file} holds an RSA key that cannot be read.");
        }
        return Checked(rsa, file);
    }

    private static RsaSecurityKey Checked(RSA rsa, string file)
    {
        if (rsa.KeySize < MinRsaBits)
        {
            rsa.Dispose();
            throw new ConfigurationException($"Jwt:PublicKeysFile {file} holds a {rsa.KeySize}-bit RSA key; at least {MinRsaBits} bits are required.");
        }
        return new RsaSecurityKey(rsa);
    }

    private static ECDsaSecurityKey Ec(Action<ECDsa> import, string file)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            import(ecdsa);
        }
        catch (CryptographicException)
        {
            ecdsa.Dispose();
            throw new ConfigurationException($"Jwt:PublicKeysFile {file} holds a key that is neither RSA nor a supported EC key.");
        }
        if (!IsNistCurve(ecdsa.ExportParameters(includePrivateParameters: false).Curve))
        {
            ecdsa.Dispose();
            throw new ConfigurationException($"Jwt:PublicKeysFile {file} holds an EC key on an unsupported curve; only P-256, P-384 and P-521 are accepted.");
        }
        return new ECDsaSecurityKey(ecdsa);
    }
}
