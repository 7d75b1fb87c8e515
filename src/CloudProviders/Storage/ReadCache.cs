using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CloudProviders.Credentials;
using CloudProviders.Http;

namespace CloudProviders.Storage;

/// <summary>
/// The request path's reads, cached in memory and exact: each entry is tagged with the
/// <see cref="ChangeWatch"/> generation it was read at and is served only while nothing has
/// changed since. A revoked key, a removed member or a new credential is seen at the next
/// request, whichever process wrote it.
/// </summary>
internal sealed class ReadCache(ChangeWatch changes, ApiKeyStore keys, TeamStore teams, CredentialStore credentials, TimeProvider time)
{
    /// <summary>Entries per cache; a full cache starts over rather than grow (a flood of unknown keys stays bounded).</summary>
    public const int Capacity = 10_000;

    private readonly Bounded<UInt128, (ApiKeyOwner? Owner, long? ExpiresAt)> _keys = new();
    private readonly Bounded<(Guid, string), Role?> _roles = new();
    private readonly Bounded<(Guid, string), CachedStatus?> _statuses = new();

    /// <summary>The status body, serialized once per change.</summary>
    internal sealed record CachedStatus(CredentialStatus Status, byte[] Json);

    /// <summary>Checks for changes; pass the result to the lookups of the same request.</summary>
    public long Generation() => changes.Generation();

    public ApiKeyOwner? AuthenticateKey(string key, long generation)
    {
        var id = TokenId(key);
        if (!_keys.TryGet(generation, id, out var entry))
        {
            var found = keys.Find(key);
            entry = (found?.Owner, found?.ExpiresAt);
            _keys.Set(generation, id, entry);
        }
        return entry.Owner is not null && (entry.ExpiresAt is not { } expires || expires > time.GetUtcNow().ToUnixTimeSeconds())
            ? entry.Owner
            : null;
    }

    public Role? FindRole(Guid teamId, string userId, long generation)
    {
        if (!_roles.TryGet(generation, (teamId, userId), out var role))
        {
            role = teams.FindRole(teamId, userId);
            _roles.Set(generation, (teamId, userId), role);
        }
        return role;
    }

    public CachedStatus? FindStatus(Guid teamId, Provider provider, long generation)
    {
        if (!_statuses.TryGet(generation, (teamId, provider.Id), out var cached))
        {
            cached = credentials.Find(teamId, provider) is { } status
                ? new CachedStatus(status, JsonSerializer.SerializeToUtf8Bytes(StatusBody.From(status), WireJsonContext.Default.StatusBody))
                : null;
            _statuses.Set(generation, (teamId, provider.Id), cached);
        }
        return cached;
    }

    /// <summary>128 bits of the token's SHA-256: the cache never holds a key in plain form.</summary>
    internal static UInt128 TokenId(string token)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var length = Encoding.UTF8.GetByteCount(token);
        var utf8 = length <= 1024 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(token, utf8);
        SHA256.HashData(utf8, hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    /// <summary>A dictionary of entries tagged with the generation they were read at, never larger than <see cref="Capacity"/>.</summary>
    internal sealed class Bounded<TKey, TValue> where TKey : notnull
    {
        private readonly ConcurrentDictionary<TKey, (long Generation, TValue Value)> _entries = new();

        public bool TryGet(long generation, TKey key, out TValue value)
        {
            if (_entries.TryGetValue(key, out var entry) && entry.Generation == generation)
            {
                value = entry.Value;
                return true;
            }
            value = default!;
            return false;
        }

        public void Set(long generation, TKey key, TValue value)
        {
            if (_entries.Count >= Capacity)
            {
                _entries.Clear();
            }
            _entries[key] = (generation, value);
        }
    }
}
