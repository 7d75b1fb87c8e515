using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CloudProviders.Auth;

/// <summary>
/// Validates user session JWTs (RFC 8725): the strict pre-check, then <see cref="JsonWebTokenHandler"/>
/// with issuer, audience, lifetime (<c>exp</c> required) and an explicit algorithm allow-list.
/// </summary>
internal sealed class JwtValidator
{
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
        if (_parameters is null
            || !JwtPrecheck.TryCheck(token, _algorithms, _time.GetUtcNow().ToUnixTimeSeconds(), _clockSkewSeconds, out var subject))
        {
            return null;
        }
        var result = await _handler.ValidateTokenAsync(token, _parameters).ConfigureAwait(false);
        return result.IsValid ? subject : null;
    }
}
