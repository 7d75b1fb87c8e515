using CloudProviders.Domain;
using CloudProviders.Storage;

namespace CloudProviders.Auth;

/// <summary>
/// Identifies the caller from a bearer token: an <c>sk-</c>/<c>dk-</c> key (hashed once, found by
/// its hash, refused when revoked or past its expiry), or a user session JWT.
/// </summary>
internal sealed class Authenticator(ReadCache reads, JwtValidator jwt, KeyUses uses, TimeProvider time)
{
    /// <param name="hashes">Where the token's hash is found or made: its connection's memo.</param>
    /// <returns>The caller; or none, and why, for a token that proves nothing (every such caller gets the same 401).</returns>
    /// <remarks>
    /// A key is found in memory (or by one read of the database) and completes at once; only a
    /// JWT may wait, for its signing keys. A JWT is checked before storage is looked at, so a bad
    /// one is a 401 even while storage is down.
    /// </remarks>
    public ValueTask<(Caller? Caller, Refusal Refusal)> AuthenticateAsync(ReadOnlyMemory<char> token, TokenHashMemo hashes) => BearerToken.Classify(token.Span) switch
    {
        TokenKind.ApiKey => new(AuthenticateKey(hashes.Of(token))),
        TokenKind.Jwt => AuthenticateUserAsync(token, hashes),
        _ => new((null, Refusal.Malformed)),
    };

    private (Caller? Caller, Refusal Refusal) AuthenticateKey(TokenHash hash)
    {
        var generation = reads.CheckForChanges();
        if (reads.FindKey(hash, generation) is not { } key)
        {
            return (null, Refusal.UnknownKey);
        }
        if (key.Revoked)
        {
            return (null, Refusal.Revoked);
        }
        if (IsExpired(key.ExpiresAt))
        {
            return (null, Refusal.Expired);
        }
        uses.Saw(key);
        return (new Caller(key.Actor, key.TeamId, generation), default);
    }

    private async ValueTask<(Caller? Caller, Refusal Refusal)> AuthenticateUserAsync(ReadOnlyMemory<char> token, TokenHashMemo hashes)
    {
        var (user, refusal) = await jwt.ValidateAsync(token, hashes).ConfigureAwait(false);
        return user is not null
            ? (new Caller(user, null, reads.CheckForChanges()), default)
            : (null, refusal);
    }

    /// <summary>A key past its expiry is refused from that second on, whether its row is cached or not.</summary>
    private bool IsExpired(long? expiresAt) => expiresAt is { } at && at <= time.GetUtcNow().ToUnixTimeSeconds();
}
