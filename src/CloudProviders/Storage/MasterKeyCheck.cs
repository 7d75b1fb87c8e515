using System.Data.Common;
using System.Security.Cryptography;

namespace CloudProviders.Storage;

/// <summary>
/// The master key's check value in the database: it tells whether a master key is the
/// database's own before anything is written, and keeps every write under that one key.
/// </summary>
internal static class MasterKeyCheck
{
    /// <summary>Refuses a key that is not the database's, or a missing one where the database holds keys. Writes nothing.</summary>
    /// <returns>Whether the database records the key's check value already.</returns>
    internal static bool Check(Database database, MasterKey.Found? found, string? developmentKey)
    {
        using var connection = database.Open();
        var version = database.ReadVersion(connection);
        if (version > Schema.Version)
        {
            throw new SchemaException($"The database has schema version {version}, newer than this binary's {Schema.Version}.");
        }
        var checkValue = version >= 3 ? ReadCheckValue(connection, null, "") : null;
        var sample = version >= 1 ? ReadSample(connection) : null;
        if (found is null)
        {
            if (checkValue is not null || sample is not null)
            {
                throw new ConfigurationException(
                    $"{database.Name} holds keys sealed under a master key, but none is configured and the development key file {developmentKey} does not exist. Set Encryption:KeyFile to the database's master key.");
            }
            return false;
        }
        var cipher = new CredentialCipher(found.Key);
        if (checkValue is not null ? !CryptographicOperations.FixedTimeEquals(checkValue, cipher.CheckValue) : sample is { } row && !Opens(cipher, row))
        {
            throw NotTheDatabasesKey(found.Source, database.Name);
        }
        return checkValue is not null;
    }

    /// <summary>Records the key's check value, or, where one is recorded (by a process that got here first), compares it.</summary>
    internal static void Establish(Database database, CredentialCipher cipher, string source)
    {
        using var write = database.BeginWrite();
        // Two instances starting on an empty database: the second waits here for the first's row.
        using (var insert = write.Command("INSERT INTO master_key_check (id, check_value) VALUES (1, @value) ON CONFLICT (id) DO NOTHING;"))
        {
            insert.With("@value", cipher.CheckValue).ExecuteNonQuery();
        }
        var recorded = ReadCheckValue(write.Connection, write.Transaction, "")!;
        if (!CryptographicOperations.FixedTimeEquals(recorded, cipher.CheckValue))
        {
            throw NotTheDatabasesKey(source, database.Name);
        }
        write.Commit();
    }

    /// <summary>Writes the check value of a new master key, inside the transaction that re-encrypts every key under it.</summary>
    internal static void Replace(Write write, CredentialCipher next)
    {
        using var command = write.Command("""
            INSERT INTO master_key_check (id, check_value) VALUES (1, @value)
            ON CONFLICT (id) DO UPDATE SET check_value = excluded.check_value;
            """);
        command.With("@value", next.CheckValue).ExecuteNonQuery();
    }

    /// <summary>Rotation's first step: the check value's row, locked against the writes that read it (<see cref="RequireKey"/>).</summary>
    internal static void LockForRotation(Write write) =>
        ReadCheckValue(write.Connection, write.Transaction, write.Database.ForUpdate);

    /// <summary>
    /// Inside a write's transaction: the key about to seal is still the database's. It stops being
    /// so when another process rotates the master key while this one runs.
    /// </summary>
    /// <exception cref="MasterKeyChangedException">The database's master key is another one now.</exception>
    internal static void RequireKey(Write write, CredentialCipher cipher)
    {
        if (ReadCheckValue(write.Connection, write.Transaction, write.Database.ForShare) is { } recorded && !CryptographicOperations.FixedTimeEquals(recorded, cipher.CheckValue))
        {
            throw new MasterKeyChangedException();
        }
    }

    private static ConfigurationException NotTheDatabasesKey(string source, string path) => new(
        $"The master key from {source} is not the one {path} was written with, so it cannot open the stored keys. Configure the database's own master key; nothing was changed.");

    private static byte[]? ReadCheckValue(DbConnection connection, DbTransaction? transaction, string locking)
    {
        using var command = connection.Command($"SELECT check_value FROM master_key_check WHERE id = 1{locking};", transaction);
        return command.ExecuteScalar() as byte[];
    }

    /// <summary>One stored ciphertext, for a database from before the check value: the key must open it.</summary>
    private static (Guid Team, string Provider, byte[] Ciphertext)? ReadSample(DbConnection connection)
    {
        using var command = connection.Command("SELECT team_id, provider, ciphertext FROM credentials WHERE ciphertext IS NOT NULL LIMIT 1;");
        using var reader = command.ExecuteReader();
        return reader.Read() ? (Guid.ParseExact(reader.GetString(0), "D"), reader.GetString(1), (byte[])reader.GetValue(2)) : null;
    }

    private static bool Opens(CredentialCipher cipher, (Guid Team, string Provider, byte[] Ciphertext) row)
    {
        try
        {
            cipher.Open(row.Team, row.Provider, row.Ciphertext);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}

/// <summary>The master key was rotated by another process: this one must restart with the new key before it writes.</summary>
internal sealed class MasterKeyChangedException()
    : Exception("The database's master key was rotated since this process started: restart it with the new key (Encryption:KeyFile).");
