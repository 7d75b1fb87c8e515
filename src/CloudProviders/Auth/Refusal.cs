namespace CloudProviders.Auth;

/// <summary>Why a bearer token was refused. Every reason gets the same 401; the reason is only counted.</summary>
internal enum Refusal
{
    /// <summary>No <c>Authorization</c> header.</summary>
    Missing,

    /// <summary>Not a bearer token of any kind the service knows, or a JWT that is not well formed.</summary>
    Malformed,

    UnknownKey,
    Expired,
    Revoked,

    /// <summary>A JWT whose signature does not verify under the configured keys (or no JWT key is configured).</summary>
    BadSignature,

    /// <summary>A JWT whose issuer, audience, subject or times are not acceptable.</summary>
    BadClaims,
}
