using Microsoft.Data.Sqlite;

namespace CloudProviders.Storage;

/// <summary>
/// SQLite's schema, versioned with <c>PRAGMA user_version</c>. Migrations only go forward, each
/// runs once, and all pending ones commit together or not at all.
/// </summary>
internal static class Schema
{
    /// <summary>Each version's DDL, in order; <c>Unit/SchemaParityTests</c> holds them to PostgreSQL's, rule for rule.</summary>
    internal static readonly string[] Migrations =
    [
        // 1: teams, members, API keys (hashes only) and provider credentials (ciphertext only).
        """
        CREATE TABLE teams (
            id          TEXT    NOT NULL PRIMARY KEY,
            name        TEXT    NOT NULL,
            created_at  INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE members (
            team_id     TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
            user_id     TEXT    NOT NULL,
            role        TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
            created_at  INTEGER NOT NULL,
            PRIMARY KEY (team_id, user_id)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE api_keys (
            id          INTEGER PRIMARY KEY,
            team_id     TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
            kind        TEXT    NOT NULL CHECK (kind IN ('sk', 'dk')),
            prefix      TEXT    NOT NULL UNIQUE,
            hash        BLOB    NOT NULL UNIQUE,
            name        TEXT,
            created_at  INTEGER NOT NULL,
            expires_at  INTEGER,
            revoked_at  INTEGER
        ) STRICT;

        CREATE INDEX api_keys_team ON api_keys (team_id);

        CREATE TABLE credentials (
            team_id         TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
            provider        TEXT    NOT NULL,
            status          TEXT    NOT NULL CHECK (status IN ('active', 'revoked')),
            cloud_fallback  INTEGER NOT NULL CHECK (cloud_fallback IN (0, 1)),
            ciphertext      BLOB,
            key_preview     TEXT,
            created_at      INTEGER NOT NULL,
            updated_at      INTEGER NOT NULL,
            PRIMARY KEY (team_id, provider),
            CHECK (status = 'active' OR (cloud_fallback = 0 AND ciphertext IS NULL)),
            CHECK (status = 'revoked' OR ciphertext IS NOT NULL)
        ) STRICT, WITHOUT ROWID;
        """,

        // 2: the audit trail of credential changes. No key, ever; no foreign key, so it outlives its team.
        """
        CREATE TABLE credential_audit (
            id          INTEGER PRIMARY KEY,
            at          INTEGER NOT NULL,
            team_id     TEXT    NOT NULL,
            provider    TEXT    NOT NULL,
            action      TEXT    NOT NULL CHECK (action IN ('set', 'replace', 'revoke')),
            actor_kind  TEXT    NOT NULL CHECK (actor_kind IN ('jwt', 'sk', 'dk', 'cli')),
            actor       TEXT    NOT NULL,
            key_preview TEXT
        ) STRICT;

        CREATE INDEX credential_audit_team ON credential_audit (team_id, id);
        """,

        // 3: the master key's check value, so that a database is only ever written under one master key.
        """
        CREATE TABLE master_key_check (
            id          INTEGER PRIMARY KEY CHECK (id = 1),
            check_value BLOB    NOT NULL
        ) STRICT;
        """,

        // 4: tests of a key in the audit trail (its outcome, and the provider's status where there
        // was one); when each API key last authenticated a request; and a count of the changes that
        // the read caches depend on, which a key's use does not move (see ChangeWatch).
        """
        CREATE TABLE credential_audit_v4 (
            id              INTEGER PRIMARY KEY,
            at              INTEGER NOT NULL,
            team_id         TEXT    NOT NULL,
            provider        TEXT    NOT NULL,
            action          TEXT    NOT NULL CHECK (action IN ('set', 'replace', 'revoke', 'test')),
            actor_kind      TEXT    NOT NULL CHECK (actor_kind IN ('jwt', 'sk', 'dk', 'cli')),
            actor           TEXT    NOT NULL,
            key_preview     TEXT,
            outcome         TEXT    CHECK (outcome IN ('valid', 'rejected', 'unreachable')),
            upstream_status INTEGER CHECK (upstream_status BETWEEN 100 AND 599),
            CHECK (action <> 'test' OR outcome IS NOT NULL)
        ) STRICT;

        INSERT INTO credential_audit_v4 (id, at, team_id, provider, action, actor_kind, actor, key_preview)
        SELECT id, at, team_id, provider, action, actor_kind, actor, key_preview FROM credential_audit;
        DROP TABLE credential_audit;
        ALTER TABLE credential_audit_v4 RENAME TO credential_audit;
        CREATE INDEX credential_audit_team ON credential_audit (team_id, id);

        ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;

        CREATE TABLE data_changes (
            id          INTEGER PRIMARY KEY CHECK (id = 1),
            counter     INTEGER NOT NULL
        ) STRICT;
        INSERT INTO data_changes (id, counter) VALUES (1, 0);
        """,
    ];

    /// <summary>The version this binary reads and writes.</summary>
    public static int Version => Migrations.Length;

    /// <summary>Creates the file if needed, turns on WAL, and applies pending migrations.</summary>
    /// <returns>The version the file had before.</returns>
    public static int Migrate(SqliteDatabase database) => Migrate(database, Version);

    internal static int Migrate(SqliteDatabase database, int targetVersion)
    {
        using var connection = database.OpenOrCreate();
        Execute(connection, "PRAGMA journal_mode = WAL;");

        using var transaction = connection.BeginTransaction(deferred: false);
        var current = ReadVersion(connection, transaction);
        if (current > Version)
        {
            throw new SchemaException(
                $"The database has schema version {current}, newer than this binary's {Version}.");
        }
        for (var version = current; version < targetVersion; version++)
        {
            Execute(connection, Migrations[version], transaction);
        }
        if (targetVersion > current)
        {
            Execute(connection, $"PRAGMA user_version = {targetVersion};", transaction);
        }
        transaction.Commit();
        return current;
    }

    public static int ReadVersion(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>The file's schema is one this binary cannot serve.</summary>
internal sealed class SchemaException(string message) : Exception(message);
