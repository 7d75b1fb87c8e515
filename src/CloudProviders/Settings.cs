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

    public required string DatabasePath { get; init; }
    public string? JwtIssuer { get; init; }
    public string? JwtAudience { get; init; }
    public string? JwtSigningKey { get; init; }
    public string? JwtPublicKeysFile { get; init; }
    public int ClockSkewSeconds { get; init; } = DefaultClockSkewSeconds;
    public string? EncryptionKey { get; init; }
    public string? EncryptionKeyFile { get; init; }

    public bool JwtConfigured => JwtSigningKey is not null || JwtPublicKeysFile is not null;

    /// <summary>The generated development master key lives beside the database.</summary>
    public string GeneratedKeyFilePath => DatabasePath + ".key";

    public static Settings From(IConfiguration configuration)
    {
        var settings = new Settings
        {
            DatabasePath = NonEmpty(configuration["Database:Path"]) ?? DefaultDatabasePath,
            JwtIssuer = NonEmpty(configuration["Jwt:Issuer"]),
            JwtAudience = NonEmpty(configuration["Jwt:Audience"]),
            JwtSigningKey = NonEmpty(configuration["Jwt:SigningKey"]),
            JwtPublicKeysFile = NonEmpty(configuration["Jwt:PublicKeysFile"]),
            ClockSkewSeconds = ReadSeconds(configuration, "Jwt:ClockSkewSeconds", DefaultClockSkewSeconds),
            EncryptionKey = NonEmpty(configuration["Encryption:Key"]),
            EncryptionKeyFile = NonEmpty(configuration["Encryption:KeyFile"]),
        };

        if (settings.JwtConfigured && (settings.JwtIssuer is null || settings.JwtAudience is null))
        {
            throw new ConfigurationException("Jwt:Issuer and Jwt:Audience are required when a JWT key is configured.");
        }
        if (settings.EncryptionKey is not null && settings.EncryptionKeyFile is not null)
        {
            throw new ConfigurationException("Set Encryption:Key or Encryption:KeyFile, not both.");
        }
        return settings;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static int ReadSeconds(IConfiguration configuration, string key, int fallback)
    {
        var raw = NonEmpty(configuration[key]);
        if (raw is null)
        {
            return fallback;
        }
        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 600)
        {
            throw new ConfigurationException($"{key} must be a whole number of seconds from 0 to 600.");
        }
        return seconds;
    }
}

/// <summary>A configuration error: the process stops at startup with this one line.</summary>
internal sealed class ConfigurationException(string message) : Exception(message);
