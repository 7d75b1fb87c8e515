using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using CloudProviders.Auth;
using CloudProviders.Domain;
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
    private readonly Bounded<(Guid, string), byte[]?> _statusBodies = new();

    /// <summary>Checks for changes; pass the result to the lookups of the same request.</summary>
    public long Generation() => changes.Generation();

    public ApiKeyOwner? AuthenticateKey(string key, long generation)
    {
        var entry = _keys.GetOrLoad(generation, TokenId(key), (keys, key), static (state, _) =>
            state.keys.Find(state.key) is { } found ? (found.Owner, found.ExpiresAt) : (null, null));
        return entry.Owner is not null && (entry.ExpiresAt is not { } expires || expires > time.GetUtcNow().ToUnixTimeSeconds())
            ? entry.Owner
            : null;
    }

    public Role? FindRole(Guid teamId, string userId, long generation) =>
        _roles.GetOrLoad(generation, (teamId, userId), teams, static (teams, id) => teams.FindRole(id.Item1, id.Item2));

    /// <summary>The status body, serialized once per change; null when nothing is configured.</summary>
    public byte[]? FindStatusBody(Guid teamId, Provider provider, long generation) =>
        _statusBodies.GetOrLoad(generation, (teamId, provider.Id), (credentials, provider), static (state, id) =>
            state.credentials.Find(id.Item1, state.provider) is { } status
                ? JsonSerializer.SerializeToUtf8Bytes(StatusBody.From(status), WireJsonContext.Default.StatusBody)
                : null);

    /// <summary>128 bits of the token's SHA-256: the cache never holds a key in plain form.</summary>
    internal static UInt128 TokenId(string token)
    {
        Span<byte> hash = stackalloc byte[Sha256.HashSizeInBytes];
        var length = Encoding.UTF8.GetByteCount(token);
        var utf8 = length <= 1024 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(token, utf8);
        Sha256.HashData(utf8, hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    /// <summary>A dictionary of entries tagged with the generation they were read at, never larger than <see cref="Capacity"/>.</summary>
    internal sealed class Bounded<TKey, TValue> where TKey : notnull
    {
        private readonly ConcurrentDictionary<TKey, (long Generation, TValue Value)> _entries = new();

        /// <summary>The entry read at this generation, or a fresh read (from <paramref name="load"/>) remembered for it.</summary>
        public TValue GetOrLoad<TState>(long generation, TKey key, TState state, Func<TState, TKey, TValue> load)
        {
            if (_entries.TryGetValue(key, out var entry) && entry.Generation == generation)
            {
                return entry.Value;
            }
            var value = load(state, key);
            if (_entries.Count >= Capacity)
            {
                _entries.Clear();
            }
            _entries[key] = (generation, value);
            return value;
        }
    }
}
