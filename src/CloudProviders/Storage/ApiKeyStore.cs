using CloudProviders.Domain;

namespace CloudProviders.Storage;

internal sealed record ApiKeyInfo(
    string Prefix,
    ApiKeyKind Kind,
    string? Name,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? LastUsedAt)
{
    /// <summary>Whether the key has gone unused for the whole period: a key never used counts from its creation.</summary>
    public bool IdleFor(TimeSpan period, DateTimeOffset now) => (LastUsedAt ?? CreatedAt) <= now - period;

    public ApiKeyState State(DateTimeOffset now) =>
        RevokedAt is not null ? ApiKeyState.Revoked : ExpiresAt <= now ? ApiKeyState.Expired : ApiKeyState.Active;
}

/// <summary>Whether a key still authenticates, as <c>key list</c> says it.</summary>
internal enum ApiKeyState { Active, Expired, Revoked }

/// <summary>A key's row, as the request path needs it.</summary>
/// <param name="teamId">The team the key belongs to.</param>
/// <param name="actor">Who a request with this key acts as (its kind and public prefix): made once with the row, not at every request.</param>
/// <param name="expiresAt">Unix seconds; null for a key that does not expire.</param>
internal sealed class StoredKey(Guid teamId, Actor actor, long? expiresAt, bool revoked)
{
    public Guid TeamId => teamId;
    public Actor Actor => actor;
    public long? ExpiresAt => expiresAt;
    public bool Revoked => revoked;

    /// <summary>The minute (since the Unix epoch) in which <see cref="KeyUses"/> last recorded a use of this row, so that it records one use a minute, not one a request.</summary>
    public long RecordedMinute;
}

/// <summary>API keys: stored as SHA-256 hashes, found by hash, listed and revoked by prefix.</summary>
internal sealed class ApiKeyStore(Database database, TimeProvider time)
{
    /// <returns>The new key, which exists nowhere else after this call returns; null for an unknown team.</returns>
    public string? Create(Guid teamId, ApiKeyKind kind, string? name, TimeSpan? lifetime)
    {
        var now = time.GetUtcNow();
        using var write = database.BeginWrite();
        if (!TeamStore.TeamExists(write, teamId))
        {
            return null;
        }
        // A prefix collision (9 base62 characters) is astronomically rare; draw again if it happens.
        for (var attempt = 0; ; attempt++)
        {
            var key = ApiKeys.Generate(kind);
            using var command = write.Command("""
                INSERT INTO api_keys (team_id, kind, prefix, hash, name, created_at, expires_at)
                VALUES (@team, @kind, @prefix, @hash, @name, @now, @expires)
                ON CONFLICT DO NOTHING;
                """);
            command.With("@team", TeamId.Format(teamId)).With("@kind", kind.Name()).With("@prefix", ApiKeys.Prefix(key))
                .With("@hash", TokenHash.Of(key).ToArray()).With("@name", name).With("@now", now.ToUnixTimeSeconds())
                .With("@expires", lifetime is { } l ? (now + l).ToUnixTimeSeconds() : null);
            if (command.ExecuteNonQuery() == 1)
            {
                write.Commit();
                return key;
            }
            if (attempt == 3)
            {
                throw new InvalidOperationException("Could not draw a unique API key.");
            }
        }
    }

    /// <summary>A key by its hash, with its expiry (unix seconds) and whether it is revoked: what follows from them is the caller's rule.</summary>
    public StoredKey? FindByHash(TokenHash hash)
    {
        using var connection = database.Open();
        using var command = connection.Command("""
            SELECT team_id, kind, prefix, expires_at, revoked_at IS NOT NULL FROM api_keys
            WHERE hash = @hash;
            """).With("@hash", hash.ToArray());
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        var kind = EnumNames<ApiKeyKind>.Parse(reader.GetString(1)) ?? throw new InvalidDataException("Unknown key kind.");
        var actor = new Actor(kind == ApiKeyKind.Dk ? ActorKind.Dk : ActorKind.Sk, reader.GetString(2));
        return new StoredKey(Guid.ParseExact(reader.GetString(0), "D"), actor, reader.IsDBNull(3) ? null : reader.GetInt64(3), reader.GetBoolean(4));
    }

    public IReadOnlyList<ApiKeyInfo> List(Guid teamId)
    {
        using var connection = database.Open();
        using var command = connection.Command("""
            SELECT prefix, kind, name, created_at, expires_at, revoked_at, last_used_at FROM api_keys
            WHERE team_id = @team ORDER BY created_at, id;
            """).With("@team", TeamId.Format(teamId));
        using var reader = command.ExecuteReader();
        var keys = new List<ApiKeyInfo>();
        while (reader.Read())
        {
            keys.Add(new ApiKeyInfo(
                reader.GetString(0),
                EnumNames<ApiKeyKind>.Parse(reader.GetString(1)) ?? throw new InvalidDataException("Unknown key kind."),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(3)),
                reader.IsDBNull(4) ? null : DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(4)),
                reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(5)),
                reader.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(6))));
        }
        return keys;
    }

    /// <returns>False when no unrevoked key has that prefix.</returns>
    public bool Revoke(string prefix)
    {
        using var write = database.BeginWrite();
        using var command = write.Command("UPDATE api_keys SET revoked_at = @now WHERE prefix = @prefix AND revoked_at IS NULL;")
            .With("@prefix", prefix).With("@now", time.GetUtcNow().ToUnixTimeSeconds());
        if (command.ExecuteNonQuery() != 1)
        {
            return false;
        }
        write.Commit();
        return true;
    }
}
