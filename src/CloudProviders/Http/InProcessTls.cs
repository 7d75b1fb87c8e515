namespace CloudProviders.Http;

/// <summary>
/// TLS in process as a part of the build: Kestrel's HTTPS endpoints and certificate settings,
/// compiled in with <c>-p:InProcessTls=true</c>. The default build leaves them out (several MB):
/// TLS ends at the mesh or the ingress. This file is the part's one edge.
/// </summary>
internal static class InProcessTls
{
    /// <summary>Whether this build carries the part.</summary>
    public static bool Included =>
#if IN_PROCESS_TLS
        true;
#else
        false;
#endif

    /// <summary>Lets Kestrel read HTTPS endpoints and certificates from configuration, in the build that carries TLS.</summary>
    public static IWebHostBuilder AddInProcessTls(this IWebHostBuilder host)
    {
#if IN_PROCESS_TLS
        host.UseKestrelHttpsConfiguration();
#endif
        return host;
    }

    /// <summary>Where to listen, checked against what this build speaks.</summary>
    /// <exception cref="ConfigurationException">An address is malformed, or HTTPS is configured in a build without TLS.</exception>
    public static void ValidateListeners(IConfiguration configuration)
    {
        if (!Included)
        {
            RequirePlainHttp(configuration);
        }
        ListenUrls.Validate(configuration, tls: Included);
    }

    /// <summary>
    /// A build without TLS speaks plain HTTP: HTTPS endpoints or certificates in the configuration
    /// would otherwise fail deep inside Kestrel's start, with a stack trace instead of one clear line.
    /// </summary>
    private static void RequirePlainHttp(IConfiguration configuration)
    {
        var urls = configuration["urls"] ?? "";
        var https = urls.Contains("https:", StringComparison.OrdinalIgnoreCase)
            || configuration.GetSection("Kestrel:Certificates").Exists()
            || configuration.GetSection("Kestrel:Endpoints").GetChildren().Any(endpoint =>
                (endpoint["Url"] ?? "").StartsWith("https:", StringComparison.OrdinalIgnoreCase)
                || endpoint.GetSection("Certificate").Exists());
        if (https)
        {
            throw new ConfigurationException(
                "HTTPS is configured, but this build serves plain HTTP (TLS ends at the mesh or ingress); publish with -p:InProcessTls=true for TLS in process.");
        }
    }
}
