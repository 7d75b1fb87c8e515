using System.Collections.Concurrent;
using CloudProviders.Domain;
using CloudProviders.Metrics;

namespace CloudProviders.Storage;

/// <summary>
/// The request path's reads, cached in memory and exact: each entry is tagged with the
/// <see cref="IChangeWatch"/> generation it was read at and is served only while nothing has
/// changed since. A revoked key, a removed member or a new credential is seen at the next
/// request, whichever process wrote it.
/// </summary>
internal sealed class ReadCache(IChangeWatch changes, ApiKeyStore keys, TeamStore teams, CredentialStore credentials)
{
    /// <summary>Entries per cache; a full cache starts over rather than grow (a flood of unknown keys stays bounded).</summary>
    public const int Capacity = 10_000;

    private readonly GenerationCache<TokenHash, StoredKey?> _keys = new(ServiceMetrics.Cache.Key);
    private readonly GenerationCache<(Guid, string), Role?> _roles = new(ServiceMetrics.Cache.Role);
    private readonly GenerationCache<(Guid, string), CredentialStatus?> _statuses = new(ServiceMetrics.Cache.Status);
    private long _lastGeneration;

    /// <summary>Looks for a change since the last request; pass the result to the lookups of this one.</summary>
    public long CheckForChanges()
    {
        var generation = changes.CheckForChanges();
        // Read first: a write to this shared field on every request would bounce its cache line between cores.
        if (Volatile.Read(ref _lastGeneration) != generation && Interlocked.Exchange(ref _lastGeneration, generation) != generation)
        {
            ServiceMetrics.CacheInvalidations.Add(1);
        }
        return generation;
    }

    /// <summary>A key by its hash; null for none.</summary>
    public StoredKey? FindKey(TokenHash hash, long generation) =>
        _keys.GetOrLoad(generation, hash, keys, static (keys, hash) => keys.FindByHash(hash));

    public Role? FindRole(Guid teamId, string userId, long generation) =>
        _roles.GetOrLoad(generation, (teamId, userId), teams, static (teams, id) => teams.FindRole(id.Item1, id.Item2));

    /// <summary>The credential's status; null when nothing is configured. The same instance while nothing changes.</summary>
    public CredentialStatus? FindStatus(Guid teamId, Provider provider, long generation) =>
        _statuses.GetOrLoad(generation, (teamId, provider.Id), (credentials, provider), static (state, id) =>
            state.credentials.Find(id.Item1, state.provider));

    /// <summary>A dictionary of entries tagged with the generation they were read at, never larger than <see cref="Capacity"/>.</summary>
    /// <param name="cache">The cache, as the metrics name it.</param>
    internal sealed class GenerationCache<TKey, TValue>(ServiceMetrics.Cache cache) where TKey : notnull
    {
        private readonly ConcurrentDictionary<TKey, (long Generation, TValue Value)> _entries = new();

        /// <summary>The entry read at this generation, or a fresh read (from <paramref name="load"/>) remembered for it.</summary>
        public TValue GetOrLoad<TState>(long generation, TKey key, TState state, Func<TState, TKey, TValue> load)
        {
            if (_entries.TryGetValue(key, out var entry) && entry.Generation == generation)
            {
                ServiceMetrics.CountCacheLookup(cache, hit: true);
                return entry.Value;
            }
            ServiceMetrics.CountCacheLookup(cache, hit: false);
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
