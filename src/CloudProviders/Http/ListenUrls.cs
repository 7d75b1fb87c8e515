using System.Globalization;
using System.Net;

namespace CloudProviders.Http;

/// <summary>
/// Checks where the service is told to listen (<c>urls</c>, <c>--urls</c>, <c>ASPNETCORE_URLS</c>,
/// <c>http_ports</c> and Kestrel's endpoint URLs) before anything starts. Kestrel reads a host it
/// cannot parse as "every interface" and a missing port as 80, so a typo would otherwise open the
/// service on every interface: here every address must be exact, or the start stops with one line.
/// </summary>
internal static class ListenUrls
{
    /// <summary>Where the service listens unless told otherwise.</summary>
    public const string DefaultUrl = "http://localhost:8080";

    /// <exception cref="ConfigurationException">An address is malformed, or HTTPS where this build has no TLS.</exception>
    public static void Validate(IConfiguration configuration, bool tls)
    {
        if (configuration["urls"] is { } urls)
        {
            ValidateList("urls", urls, tls);
        }
        foreach (var key in tls ? new[] { "http_ports", "https_ports" } : ["http_ports"])
        {
            if (configuration[key] is { } ports)
            {
                foreach (var port in ports.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).DefaultIfEmpty(""))
                {
                    if (!TryPort(port, out _))
                    {
                        throw new ConfigurationException($"{key} '{port}' is not a port: give whole numbers from 1 to 65535, separated by ';'.");
                    }
                }
            }
        }
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            var key = $"Kestrel:Endpoints:{endpoint.Key}:Url";
            ValidateOne(key, endpoint["Url"] ?? throw new ConfigurationException($"{key} is required for the endpoint {endpoint.Key}."), tls);
        }
    }

    private static void ValidateList(string key, string value, bool tls)
    {
        var urls = value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (urls.Length == 0)
        {
            throw new ConfigurationException($"{key} is empty: give an address such as http://127.0.0.1:8080, or leave it out for {DefaultUrl}.");
        }
        foreach (var url in urls)
        {
            ValidateOne(key, url, tls);
        }
    }

    private static void ValidateOne(string key, string url, bool tls)
    {
        var problem = Problem(url, tls);
        if (problem is not null)
        {
            throw new ConfigurationException($"{key} '{url}' {problem}");
        }
    }

    /// <summary>What is wrong with one address, as the end of a sentence; null when nothing is.</summary>
    internal static string? Problem(string url, bool tls)
    {
        const string Example = "such as http://127.0.0.1:8080, http://localhost:8080 or http://*:8080 for every interface.";
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var scheme = schemeEnd < 0 ? "" : url[..schemeEnd].ToLowerInvariant();
        if (scheme == "https" && !tls)
        {
            return "is HTTPS, but this build serves plain HTTP (TLS ends at the mesh or ingress); publish with -p:InProcessTls=true for TLS in process.";
        }
        if (scheme is not ("http" or "https"))
        {
            return $"is not an http:// address: give scheme, host and port, {Example}";
        }
        var rest = url[(schemeEnd + 3)..];
        if (rest.StartsWith("unix:/", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var authority = rest.TrimEnd('/');
        if (authority.Contains('/', StringComparison.Ordinal))
        {
            return $"has a path; the service listens at the root: give scheme, host and port only, {Example}";
        }
        var colon = authority.LastIndexOf(':');
        if (colon < 0 || authority.EndsWith(']'))
        {
            return $"has no port: give one, {Example}";
        }
        var host = authority[..colon];
        if (!TryPort(authority[(colon + 1)..], out _, allowZero: true))
        {
            return $"has no valid port (0 to 65535): {Example}";
        }
        var isAddress = host is "*" or "+" or "localhost"
            || (host.StartsWith('[') && host.EndsWith(']') && IPAddress.TryParse(host[1..^1], out _))
            || (!host.Contains(':', StringComparison.Ordinal) && IPAddress.TryParse(host, out var ip) && host.Count(c => c == '.') == 3 && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
        return isAddress
            ? null
            : $"names the host '{host}', which Kestrel would bind on every interface: give an IP address, localhost, or * for every interface, {Example}";
    }

    private static bool TryPort(string text, out int port, bool allowZero = false) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && text.Length <= 5 && port <= 65535 && (allowZero || port > 0);
}
