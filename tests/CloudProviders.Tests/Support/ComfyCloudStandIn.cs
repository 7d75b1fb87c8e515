using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CloudProviders.Tests.Support;

/// <summary>
/// A loopback stand-in for ComfyUI Cloud's key check: a real HTTP server on 127.0.0.1, plain, or
/// HTTPS with a certificate of a CA of its own (<see cref="CaFile"/>, for the service's
/// <c>SSL_CERT_FILE</c>). <c>GET /api/user</c> with <c>X-API-Key</c>: <see cref="ValidKey"/> gets
/// 200, a key named for a behaviour gets it, and any other key 401. Every request is recorded, so
/// that a test can see where the key went.
/// </summary>
internal sealed class ComfyCloudStandIn : IAsyncDisposable
{
    /// <summary>The one key the stand-in accepts.</summary>
    public const string ValidKey = "comfyui-a11ce5a11ce5a11ce5a11ce5a11ce5a11ce5a11ce5a11ce5a11ce5a11ce5a11c";

    /// <summary>A key the stand-in refuses with 401, as it refuses every key it does not know.</summary>
    public const string RejectedKey = "comfyui-0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad0bad";

    /// <summary>A key the stand-in refuses with 403.</summary>
    public const string ForbiddenKey = "comfyui-f0bdf0bdf0bdf0bdf0bdf0bdf0bdf0bdf0bdf0bdf0bdf0bdf0bdf0bdf0bdf0bd";

    /// <summary>Keys for which the stand-in misbehaves, each its own way.</summary>
    public const string TooManyRequestsKey = "comfyui-4290429042904290429042904290429042904290429042904290429042904290";
    public const string ServerErrorKey = "comfyui-5000500050005000500050005000500050005000500050005000500050005000";
    public const string HangingKey = "comfyui-4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a";
    public const string DroppingKey = "comfyui-d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0";
    public const string HugeBodyKey = "comfyui-10b010b010b010b010b010b010b010b010b010b010b010b010b010b010b010b0";

    /// <summary>Every key above: the secret ledger fails a test that lets any of them reach a log, a body or the database.</summary>
    public static readonly string[] AllKeys = [ValidKey, RejectedKey, ForbiddenKey, TooManyRequestsKey, ServerErrorKey, HangingKey, DroppingKey, HugeBodyKey];

    public const int HugeBodyBytes = 10 * 1024 * 1024;

    private readonly WebApplication _app;
    private int _hugeBytesSent;

    private ComfyCloudStandIn(WebApplication app, string? caFile)
    {
        _app = app;
        CaFile = caFile;
    }

    /// <summary>The base URL to configure as <c>ComfyCloud:BaseUrl</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>For HTTPS: a PEM of the CA that signed the stand-in's certificate.</summary>
    public string? CaFile { get; }

    /// <summary>Every request, as it arrived.</summary>
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>How many bytes of the huge body the stand-in managed to send before the client hung up.</summary>
    public int HugeBytesSent => Volatile.Read(ref _hugeBytesSent);

    public sealed record RecordedRequest(string Method, string PathAndQuery, IReadOnlyList<KeyValuePair<string, string>> Headers);

    /// <param name="httpsCaFolder">Where to write the CA's PEM for HTTPS; null for plain HTTP.</param>
    public static async Task<ComfyCloudStandIn> StartAsync(string? httpsCaFolder = null)
    {
        foreach (var key in AllKeys)
        {
            SecretLedger.Record(key);
        }
        X509Certificate2? certificate = null;
        string? caFile = null;
        if (httpsCaFolder is not null)
        {
            (certificate, var caPem) = IssueCertificate();
            Directory.CreateDirectory(httpsCaFolder);
            caFile = Path.Combine(httpsCaFolder, "stand-in-ca.pem");
            await File.WriteAllTextAsync(caFile, caPem);
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        var app = builder.Build();
        var standIn = new ComfyCloudStandIn(app, caFile);
        app.Run(standIn.AnswerAsync);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        standIn.BaseUrl = $"{address.Scheme}://{(certificate is null ? "127.0.0.1" : "localhost")}:{address.Port}";
        return standIn;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var request = context.Request;
        Requests.Enqueue(new RecordedRequest(request.Method, request.Path + request.QueryString,
            [.. request.Headers.SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v ?? "")))]));
        if (request.Method != HttpMethods.Get || request.Path != "/api/user")
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        var key = request.Headers["X-API-Key"].ToString();
        switch (key)
        {
            case ValidKey:
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("""{"id":"user-1","email":"someone@example.com"}""");
                return;
            case ForbiddenKey:
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return;
            case TooManyRequestsKey:
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = "30";
                return;
            case ServerErrorKey:
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                return;
            case HangingKey:
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }
                return;
            case DroppingKey:
                context.Abort();
                return;
            case HugeBodyKey:
                var chunk = new byte[64 * 1024];
                context.Response.ContentLength = HugeBodyBytes;
                try
                {
                    for (var sent = 0; sent < HugeBodyBytes; sent += chunk.Length)
                    {
                        await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                        Interlocked.Add(ref _hugeBytesSent, chunk.Length);
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
                {
                }
                return;
            default:
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("""{"error":"invalid api key"}""");
                return;
        }
    }

    /// <summary>A CA of the stand-in's own, and a certificate it signs for localhost and 127.0.0.1.</summary>
    private static (X509Certificate2 Certificate, string CaPem) IssueCertificate()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=ComfyUI Cloud stand-in CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(6), RandomNumberGenerator.GetBytes(16));
        using var withKey = issued.CopyWithPrivateKey(key);
        var certificate = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        return (certificate, ca.ExportCertificatePem());
    }

    public async ValueTask DisposeAsync()
    {
        using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(stopping.Token);
        }
        await _app.DisposeAsync();
    }
}
