using System.Globalization;

namespace CloudProviders;

/// <summary>
/// The service's configuration, read once from ASP.NET Core configuration (so environment
/// variables use <c>__</c>: <c>Jwt__Issuer</c>). The key names are a public interface.
/// </summary>
internal sealed record Settings
{
    public const string DefaultDatabasePath = "cloud-providers.db";
    public const int DefaultClockSkewSeconds = 30;
    public const int DefaultShutdownTimeoutSeconds = 10;
    public const string DefaultComfyCloudBaseUrl = "https://cloud.comfy.org";
    public const int DefaultComfyCloudTimeoutSeconds = 10;

    /// <summary>The storage engine: <c>sqlite</c> (the default, one embedded file) or <c>postgres</c> (a database a fleet shares).</summary>
    public DatabaseEngine Engine { get; init; }

    public required string DatabasePath { get; init; }

    /// <summary>PostgreSQL's Npgsql connection string.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>
    /// Where the listener (and the migrations) connect, when the pool goes through a
    /// transaction-mode pooler that cannot carry <c>LISTEN</c>; null for <see cref="ConnectionString"/>.
    /// </summary>
    public string? ListenConnectionString { get; init; }

    /// <summary>A file that holds PostgreSQL's password, for a secret mount; held to the master key file's rules.</summary>
    public string? PasswordFile { get; init; }

    /// <summary>A replica: open the file read-only, never migrate or write, refuse PUT and DELETE with 503.</summary>
    public bool ReadOnly { get; init; }
    public string? JwtIssuer { get; init; }
    public string? JwtAudience { get; init; }
    public string? JwtSigningKey { get; init; }
    public string? JwtPublicKeysFile { get; init; }
    public int ClockSkewSeconds { get; init; } = DefaultClockSkewSeconds;
    public string? EncryptionKey { get; init; }
    public string? EncryptionKeyFile { get; init; }

    /// <summary>After SIGTERM, how long readiness answers 503 while requests are still served.</summary>
    public int DrainSeconds { get; init; }

    /// <summary>How long requests in flight may take to finish once the server stops.</summary>
    public int ShutdownTimeoutSeconds { get; init; } = DefaultShutdownTimeoutSeconds;

    /// <summary>ComfyUI Cloud, where a key is tested: https, or http on loopback only. No trailing slash.</summary>
    public string ComfyCloudBaseUrl { get; init; } = DefaultComfyCloudBaseUrl;

    /// <summary>How long one test of a key against ComfyUI Cloud may take, all of it: 1 to 60 seconds.</summary>
    public int ComfyCloudTimeoutSeconds { get; init; } = DefaultComfyCloudTimeoutSeconds;

    /// <summary>Whether <c>GET /metrics</c> serves the Prometheus exposition; off, it is a 404.</summary>
    public bool MetricsEnabled { get; init; } = true;

    public bool JwtConfigured => JwtSigningKey is not null || JwtPublicKeysFile is not null;

    /// <summary>Every key of the service's own sections. Any other key in them is a typo, and stops the start.</summary>
    internal static readonly string[] Keys =
    [
        "Database:Engine", "Database:Path", "Database:ReadOnly", "Database:ConnectionString", "Database:ListenConnectionString", "Database:PasswordFile",
        "Jwt:Issuer", "Jwt:Audience", "Jwt:SigningKey", "Jwt:PublicKeysFile", "Jwt:ClockSkewSeconds",
        "Encryption:Key", "Encryption:KeyFile",
        "Shutdown:DrainSeconds", "Shutdown:TimeoutSeconds",
        "Metrics:Enabled",
        "ComfyCloud:BaseUrl", "ComfyCloud:TimeoutSeconds",
    ];

    private static readonly string[] Sections = [.. Keys.Select(key => key[..key.IndexOf(':', StringComparison.Ordinal)]).Distinct()];

    /// <summary>Reads and checks every setting; throws <see cref="ConfigurationException"/> with one line for the first problem.</summary>
    public static Settings From(IConfiguration configuration)
    {
        RequireKnownKeys(configuration);
        var settings = new Settings
        {
            Engine = ReadEngine(configuration),
            ConnectionString = NonEmpty(configuration["Database:ConnectionString"]),
            ListenConnectionString = NonEmpty(configuration["Database:ListenConnectionString"]),
            PasswordFile = NonEmpty(configuration["Database:PasswordFile"]),
            DatabasePath = NonEmpty(configuration["Database:Path"]) ?? DefaultDatabasePath,
            ReadOnly = ReadBool(configuration, "Database:ReadOnly"),
            JwtIssuer = NonEmpty(configuration["Jwt:Issuer"]),
            JwtAudience = NonEmpty(configuration["Jwt:Audience"]),
            JwtSigningKey = NonEmpty(configuration["Jwt:SigningKey"]),
            JwtPublicKeysFile = NonEmpty(configuration["Jwt:PublicKeysFile"]),
            ClockSkewSeconds = ReadSeconds(configuration, "Jwt:ClockSkewSeconds", DefaultClockSkewSeconds),
            EncryptionKey = NonEmpty(configuration["Encryption:Key"]),
            EncryptionKeyFile = NonEmpty(configuration["Encryption:KeyFile"]),
            DrainSeconds = ReadSeconds(configuration, "Shutdown:DrainSeconds", 0),
            ShutdownTimeoutSeconds = ReadSeconds(configuration, "Shutdown:TimeoutSeconds", DefaultShutdownTimeoutSeconds),
            MetricsEnabled = ReadBool(configuration, "Metrics:Enabled", fallback: true),
            ComfyCloudBaseUrl = ReadBaseUrl(configuration, "ComfyCloud:BaseUrl", DefaultComfyCloudBaseUrl),
            ComfyCloudTimeoutSeconds = ReadSeconds(configuration, "ComfyCloud:TimeoutSeconds", DefaultComfyCloudTimeoutSeconds, minimum: 1, maximum: 60),
        };

        if (settings.JwtConfigured && (settings.JwtIssuer is null || settings.JwtAudience is null))
        {
            throw new ConfigurationException("Jwt:Issuer and Jwt:Audience are required when a JWT key is configured.");
        }
        if (!settings.JwtConfigured && (settings.JwtIssuer ?? settings.JwtAudience) is not null)
        {
            throw new ConfigurationException(
                $"{(settings.JwtIssuer is not null ? "Jwt:Issuer" : "Jwt:Audience")} is set, but no JWT key is: set Jwt:SigningKey or Jwt:PublicKeysFile, or remove Jwt:Issuer and Jwt:Audience.");
        }
        RequireEngineSettings(configuration, settings);
        if (settings.Engine == DatabaseEngine.Sqlite && Directory.Exists(settings.DatabasePath))
        {
            throw new ConfigurationException(
                $"Database:Path {settings.DatabasePath} is a folder; give the path of the database file, such as {Path.Combine(settings.DatabasePath, DefaultDatabasePath)}.");
        }
        if (settings.EncryptionKey is not null && settings.EncryptionKeyFile is not null)
        {
            throw new ConfigurationException("Set Encryption:Key or Encryption:KeyFile, not both.");
        }
        return settings;
    }

    private static DatabaseEngine ReadEngine(IConfiguration configuration)
    {
        var engine = NonEmpty(configuration["Database:Engine"]);
        if (engine is null || engine.Equals("sqlite", StringComparison.OrdinalIgnoreCase))
        {
            return DatabaseEngine.Sqlite;
        }
        if (!engine.Equals("postgres", StringComparison.OrdinalIgnoreCase))
        {
            throw new ConfigurationException("Database:Engine must be sqlite (the default) or postgres.");
        }
        // Whether this build carries the engine is storage's to say, when it opens the database.
        return DatabaseEngine.Postgres;
    }

    /// <summary>Each engine's settings, and only its own: a setting for the other engine is a mistake about which one runs.</summary>
    private static void RequireEngineSettings(IConfiguration configuration, Settings settings)
    {
        if (settings.Engine == DatabaseEngine.Postgres)
        {
            foreach (var key in new[] { "Database:Path", "Database:ReadOnly" })
            {
                if (configuration[key] is not null)
                {
                    throw new ConfigurationException(
                        $"{key}{(key == "Database:Path" ? " (--db)" : "")} is SQLite's, but Database:Engine is postgres: remove it, or set Database:Engine=sqlite.");
                }
            }
            if (settings.ConnectionString is null)
            {
                throw new ConfigurationException(
                    "Database:Engine=postgres needs Database:ConnectionString, such as Host=db.example.com;Database=cloud_providers;Username=cloud_providers;SSL Mode=VerifyFull.");
            }
            return;
        }
        foreach (var key in new[] { "Database:ConnectionString", "Database:ListenConnectionString", "Database:PasswordFile" })
        {
            if (configuration[key] is not null)
            {
                throw new ConfigurationException($"{key} is PostgreSQL's, but Database:Engine is sqlite (the default): set Database:Engine=postgres, or remove it.");
            }
        }
    }

    /// <summary>
    /// An unknown key in one of the service's sections, or a key set to nothing, is a mistake
    /// (a typo, or a variable that was meant to hold a value): say which, and what was meant.
    /// </summary>
    private static void RequireKnownKeys(IConfiguration configuration)
    {
        foreach (var section in Sections)
        {
            foreach (var entry in Flatten(configuration.GetSection(section)))
            {
                var known = Keys.FirstOrDefault(key => key.Equals(entry.Path, StringComparison.OrdinalIgnoreCase));
                if (known is null)
                {
                    var meant = Spelling.Closest(entry.Path, Keys);
                    throw new ConfigurationException(
                        $"Unknown setting {entry.Path}.{(meant is null ? "" : $" Did you mean {meant}?")} The settings are: {string.Join(", ", Keys)}.");
                }
                if (string.IsNullOrWhiteSpace(entry.Value))
                {
                    throw new ConfigurationException($"{known} is set but empty: give it a value, or leave it out.");
                }
            }
        }
    }

    private static IEnumerable<IConfigurationSection> Flatten(IConfigurationSection section)
    {
        foreach (var child in section.GetChildren())
        {
            if (child.Value is not null || !child.GetChildren().Any())
            {
                yield return child;
            }
            foreach (var nested in Flatten(child))
            {
                yield return nested;
            }
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static bool ReadBool(IConfiguration configuration, string key, bool fallback = false) => NonEmpty(configuration[key]) switch
    {
        null => fallback,
        var raw when bool.TryParse(raw, out var value) => value,
        _ => throw new ConfigurationException($"{key} must be true or false."),
    };

    private static int ReadSeconds(IConfiguration configuration, string key, int fallback, int minimum = 0, int maximum = 600)
    {
        var raw = NonEmpty(configuration[key]);
        if (raw is null)
        {
            return fallback;
        }
        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < minimum || seconds > maximum)
        {
            throw new ConfigurationException($"{key} must be a whole number of seconds from {minimum} to {maximum}.");
        }
        return seconds;
    }

    /// <summary>
    /// An upstream's base URL: absolute, https (plain http only to a loopback address, as for the
    /// database), no user name or password, query or fragment. A key goes there and nowhere else.
    /// </summary>
    private static string ReadBaseUrl(IConfiguration configuration, string key, string fallback)
    {
        var raw = NonEmpty(configuration[key]) ?? fallback;
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)
            || url.UserInfo.Length > 0 || url.Query.Length > 0 || url.Fragment.Length > 0 || raw.Contains('#', StringComparison.Ordinal) || raw.Contains('?', StringComparison.Ordinal))
        {
            throw new ConfigurationException($"{key} must be an absolute https URL without credentials, query or fragment, such as {fallback}.");
        }
        if (url.Scheme == Uri.UriSchemeHttp && !IsLoopback(url))
        {
            throw new ConfigurationException($"{key} must use https: plain http is allowed only to a loopback address (127.0.0.1, ::1 or localhost).");
        }
        return url.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    private static bool IsLoopback(Uri url) =>
        url.IsLoopback && (url.HostNameType != UriHostNameType.Dns || url.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase));
}

internal enum DatabaseEngine { Sqlite, Postgres }

/// <summary>A configuration error: the process stops at startup with this one line.</summary>
internal sealed class ConfigurationException(string message) : Exception(message);
