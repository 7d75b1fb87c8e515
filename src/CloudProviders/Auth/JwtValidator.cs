using System.Collections.Concurrent;
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
internal sealed class JwtValidator
{
    private readonly ConcurrentDictionary<UInt128, (string Subject, double ValidUntil)> _validated = new();
    private readonly JsonWebTokenHandler _handler = new() { MaximumTokenSizeInBytes = JwtPrecheck.MaxTokenLength };
    private readonly TokenValidationParameters? _parameters;
    private readonly IReadOnlySet<string> _algorithms;
    private readonly int _clockSkewSeconds;
    private readonly TimeProvider _time;

    public JwtValidator(Settings settings, TimeProvider time)
    {
        _time = time;
        _clockSkewSeconds = settings.ClockSkewSeconds;
        var keys = SigningKeys.Load(settings);
        _algorithms = keys.Algorithms;
        if (keys.Keys.Count == 0)
        {
            return;
        }
        _parameters = new TokenValidationParameters
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
        };
    }

    /// <summary>False when no JWT key is configured: every JWT caller then gets 401.</summary>
    public bool Enabled => _parameters is not null;

    /// <returns>The token's subject, or null for any token that does not validate.</returns>
    public async ValueTask<string?> ValidateAsync(string token)
    {
        if (_parameters is null || token.Length > JwtPrecheck.MaxTokenLength)
        {
            return null;
        }
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var id = ReadCache.TokenId(token);
        if (_validated.TryGetValue(id, out var known))
        {
            if (now < known.ValidUntil)
            {
                return known.Subject;
            }
            _validated.TryRemove(id, out _);
        }
        if (!JwtPrecheck.TryCheck(token, _algorithms, now, _clockSkewSeconds, out var subject, out var expires))
        {
            return null;
        }
        var result = await _handler.ValidateTokenAsync(token, _parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return null;
        }
        if (_validated.Count >= ReadCache.Capacity)
        {
            _validated.Clear();
        }
        _validated[id] = (subject, expires + _clockSkewSeconds);
        return subject;
    }
}
