using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Native;

/// <summary>
/// TLS in process: the opt-in build serves HTTPS from the standard Kestrel certificate settings;
/// the default build refuses those settings with one clear line instead of a stack trace.
/// </summary>
[Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
public sealed class TlsBuildTests : IDisposable
{
    private const string Team = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718293";

    private readonly NativeBinary _tls = NativeBinary.WithTls();
    private readonly NativeBinary _plain = new();

    [Fact]
    public async Task The_tls_build_serves_https_with_the_standard_kestrel_certificate_settings()
    {
        var thumbprint = WriteCertificate(_tls.CertificatePath);
        // Trust exactly this certificate, nothing else.
        _tls.NewHandler = () => new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == thumbprint,
        };
        _tls.Ok("team", "add", Team);
        var sk = _tls.Ok("key", "create", Team, "--kind", "sk").TrimEnd('\n');
        _tls.OkWithInput(ServiceFactory.ComfyKey + "\n", "credential", "set", Team);

        var server = await _tls.ServeAsync(https: true);
        Assert.Equal("https", server.BaseAddress.Scheme);
        using var client = server.Client(sk);
        var body = await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
        Assert.Equal("active", body.GetProperty("credential_status").GetString());
    }

    [Fact]
    public void The_default_build_refuses_https_settings_with_one_clear_line()
    {
        WriteCertificate(_plain.CertificatePath);
        _plain.Environment["Kestrel__Endpoints__Https__Url"] = "https://127.0.0.1:0";
        _plain.Environment["Kestrel__Endpoints__Https__Certificate__Path"] = _plain.CertificatePath;
        _plain.Environment["Kestrel__Endpoints__Https__Certificate__KeyPath"] = _plain.CertificatePath + ".key";
        var result = _plain.Run("serve");
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: HTTPS is configured, but this build serves plain HTTP", line, StringComparison.Ordinal);
    }

    /// <summary>A self-signed P-256 certificate for 127.0.0.1, as PEM with its key beside it.</summary>
    private static string WriteCertificate(string path)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(path, certificate.ExportCertificatePem());
        File.WriteAllText(path + ".key", key.ExportPkcs8PrivateKeyPem());
        return certificate.Thumbprint;
    }

    public void Dispose()
    {
        _tls.Dispose();
        _plain.Dispose();
    }
}
