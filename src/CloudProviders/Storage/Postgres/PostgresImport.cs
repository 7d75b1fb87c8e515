using System.Data.Common;
using System.Security.Cryptography;

namespace CloudProviders.Storage;

/// <summary>
/// Moves a SQLite database up to PostgreSQL: every row of every table, as stored (ciphertext,
/// previews, timestamps, ids), in one transaction, into a database that holds nothing yet. The
/// ciphertext's associated data is the team and provider, so the same master key opens it there.
/// </summary>
internal static class PostgresImport
{
    /// <summary>The tables, parents first, with their columns; <c>cloud_fallback</c> is SQLite's 0/1 and PostgreSQL's boolean.</summary>
    private static readonly (string Table, string[] Columns, string Key)[] Tables =
    [
        ("teams", ["id", "name", "created_at"], "id"),
        ("members", ["team_id", "user_id", "role", "created_at"], "team_id, user_id"),
        ("api_keys", ["id", "team_id", "kind", "prefix", "hash", "name", "created_at", "expires_at", "revoked_at"], "id"),
        ("credentials", ["team_id", "provider", "status", "cloud_fallback", "ciphertext", "key_preview", "created_at", "updated_at"], "team_id, provider"),
        ("credential_audit", ["id", "at", "team_id", "provider", "action", "actor_kind", "actor", "key_preview"], "id"),
    ];

    /// <summary>What a source must be, checked before the target is touched: a current schema, sealed under this master key.</summary>
    /// <exception cref="ConfigurationException">It is not.</exception>
    public static void CheckSource(SqliteDatabase source, CredentialCipher cipher, string keySource)
    {
        using var connection = source.Open();
        var version = source.ReadVersion(connection);
        if (version != Schema.Version)
        {
            throw new ConfigurationException(version < Schema.Version
                ? $"{source.Path} has schema version {version}; bring it to {Schema.Version} first with: cloud-providers migrate --db {source.Path}"
                : $"{source.Path} has schema version {version}, newer than this binary's {Schema.Version}.");
        }
        using var command = connection.Command("SELECT check_value FROM master_key_check WHERE id = 1;");
        if (command.ExecuteScalar() is byte[] recorded && !CryptographicOperations.FixedTimeEquals(recorded, cipher.CheckValue))
        {
            throw new ConfigurationException(
                $"The master key from {keySource} is not the one {source.Path} was written with; configure that file's master key (Encryption:KeyFile), so that its keys open on PostgreSQL. Nothing was changed.");
        }
    }

    /// <summary>Copies every row, checks the counts, and commits; or changes nothing.</summary>
    /// <returns>Each table and the rows it received.</returns>
    /// <exception cref="ConfigurationException">The target holds data already.</exception>
    public static IReadOnlyList<(string Table, long Rows)> Copy(SqliteDatabase source, PostgresDatabase target)
    {
        using var from = source.Open();
        // One snapshot of the source, whatever writes it meanwhile.
        using var snapshot = from.BeginTransaction(deferred: true);
        using var write = target.BeginWrite();
        foreach (var (table, _, _) in Tables)
        {
            if (Count(write.Connection, write.Transaction, table) != 0)
            {
                throw new ConfigurationException($"{target.Name} already holds data ({table}); import only into an empty database. Nothing was changed.");
            }
        }
        var copied = new List<(string, long)>();
        foreach (var (table, columns, key) in Tables)
        {
            var list = string.Join(", ", columns);
            using var insert = write.Command($"INSERT INTO {table} ({list}) VALUES ({string.Join(", ", columns.Select(c => "@" + c))});");
            var parameters = columns.Select(column =>
            {
                var parameter = insert.CreateParameter();
                parameter.ParameterName = "@" + column;
                insert.Parameters.Add(parameter);
                return parameter;
            }).ToArray();
            using var select = from.Command($"SELECT {list} FROM {table} ORDER BY {key};", snapshot);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                for (var i = 0; i < columns.Length; i++)
                {
                    parameters[i].Value = columns[i] == "cloud_fallback" ? reader.GetBoolean(i) : reader.GetValue(i);
                }
                insert.ExecuteNonQuery();
            }
            var rows = Count(write.Connection, write.Transaction, table);
            if (rows != Count(from, snapshot, table))
            {
                throw new InvalidOperationException($"The copy of {table} does not have the source's row count; nothing was changed.");
            }
            copied.Add((table, rows));
        }
        // Ids were copied as they were: new rows continue after them.
        foreach (var table in new[] { "api_keys", "credential_audit" })
        {
            using var sequence = write.Command($"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table};");
            sequence.ExecuteNonQuery();
        }
        write.Commit();
        return copied;
    }

    private static long Count(DbConnection connection, DbTransaction? transaction, string table)
    {
        using var command = connection.Command($"SELECT count(*) FROM {table};", transaction);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
