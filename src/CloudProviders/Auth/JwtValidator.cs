using System.Collections.Concurrent;
using CloudProviders.Domain;
using CloudProviders.Storage;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CloudProviders.Auth;

/// <summary>
/// Validates user session JWTs (RFC 8725): the strict pre-check, then <see cref="JsonWebTokenHandler"/>
/// with issuer, audience, lifetime (<c>exp</c> required) and an explicit algorithm allow-list.
/// A token that validated is remembered, by a hash of it, until it expires: the answer for it
/// cannot change before then, since it depends only on the token, the keys and the clock.
/// </summary>
internal sealed partial class JwtValidator
{
    /// <summary>How often, at most, the public keys file is looked at for a change.</summary>
    private static readonly TimeSpan KeyFileCheckInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<UInt128, (Actor User, double ValidUntil)> _validated = new();
    private readonly JsonWebTokenHandler _handler = new() { MaximumTokenSizeInBytes = JwtPrecheck.MaxTokenLength };
    private readonly Settings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private volatile KeySet _keys;
    private long _nextKeyFileCheck;

    /// <summary>The keys in force, and what their file looked like when they were read.</summary>
    private sealed record KeySet(TokenValidationParameters? Parameters, IReadOnlySet<string> Algorithms, (long, long) FileStamp);

    public JwtValidator(Settings settings, TimeProvider time, ILoggerFactory loggers)
    {
        _settings = settings;
        _time = time;
        _logger = loggers.CreateLogger("CloudProviders");
        _keys = Load(settings);
    }

    /// <summary>False when no JWT key is configured: every JWT caller then gets 401.</summary>
    public bool Enabled => _keys.Parameters is not null;

    private static KeySet Load(Settings settings)
    {
        var stamp = Stamp(settings.JwtPublicKeysFile);
        var keys = SigningKeys.Load(settings);
        if (keys.Keys.Count == 0)
        {
            return new KeySet(null, keys.Algorithms, stamp);
        }
        return new KeySet(new TokenValidationParameters
        {
            ValidIssuer = settings.JwtIssuer,
            ValidAudience = settings.JwtAudience,
            IssuerSigningKeys = keys.Keys,
            ValidAlgorithms = keys.Algorithms,
            TryAllIssuerSigningKeys = true,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = TimeSpan.FromSeconds(settings.ClockSkewSeconds),
            RequireAudience = true,
            SaveSigninToken = false,
        }, keys.Algorithms, stamp);
    }

    private static (long, long) Stamp(string? file)
    {
        if (file is null)
        {
            return default;
        }
        var info = new FileInfo(file);
        return info.Exists ? (info.LastWriteTimeUtc.Ticks, info.Length) : default;
    }

    /// <summary>
    /// Reads <c>Jwt:PublicKeysFile</c> again when it has changed, so the identity provider's keys
    /// rotate without a restart. A file caught half-written keeps the keys in force until it parses.
    /// </summary>
    private void RefreshKeys()
    {
        if (_settings.JwtPublicKeysFile is null)
        {
            return;
        }
        var now = _time.GetTimestamp();
        var next = Interlocked.Read(ref _nextKeyFileCheck);
        if (now < next || Interlocked.CompareExchange(ref _nextKeyFileCheck, now + (long)(KeyFileCheckInterval.TotalSeconds * _time.TimestampFrequency), next) != next)
        {
            return;
        }
        if (Stamp(_settings.JwtPublicKeysFile) == _keys.FileStamp)
        {
            return;
        }
        try
        {
            _keys = Load(_settings);
            _validated.Clear();
            LogKeysReloaded(_logger, _settings.JwtPublicKeysFile);
        }
        catch (ConfigurationException e)
        {
            LogKeysNotReloaded(_logger, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reloaded the JWT public keys from {File}.")]
    private static partial void LogKeysReloaded(ILogger logger, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kept the JWT keys in force: {Problem}")]
    private static partial void LogKeysNotReloaded(ILogger logger, string problem);

    /// <param name="hashes">Where the token's hash, the key of the validated tokens, is found or made.</param>
    /// <returns>The user the token names (its subject), or null and why, for any token that does not validate.</returns>
    public async ValueTask<(Actor? User, Refusal Refusal)> ValidateAsync(ReadOnlyMemory<char> token, TokenHashMemo hashes)
    {
        RefreshKeys();
        var keys = _keys;
        if (keys.Parameters is null)
        {
            return (null, Refusal.BadSignature);
        }
        if (token.Length > JwtPrecheck.MaxTokenLength)
        {
            return (null, Refusal.Malformed);
        }
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var id = hashes.Of(token).Low;
        if (_validated.TryGetValue(id, out var known))
        {
            if (now < known.ValidUntil)
            {
                return (known.User, default);
            }
            _validated.TryRemove(id, out _);
        }
        // Only a token not seen before is copied out of the header, for the checks that take a string.
        var text = token.ToString();
        if (!JwtPrecheck.TryCheck(text, keys.Algorithms, now, _settings.ClockSkewSeconds, out var subject, out var expires, out var refusal))
        {
            return (null, refusal);
        }
        var result = await _handler.ValidateTokenAsync(text, keys.Parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return (null, result.Exception switch
            {
                SecurityTokenExpiredException => Refusal.Expired,
                SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidAlgorithmException => Refusal.BadSignature,
                SecurityTokenMalformedException => Refusal.Malformed,
                _ => Refusal.BadClaims,
            });
        }
        if (_validated.Count >= ReadCache.Capacity)
        {
            _validated.Clear();
        }
        var user = new Actor(ActorKind.Jwt, subject);
        _validated[id] = (user, expires + _settings.ClockSkewSeconds);
        return (user, default);
    }
}
