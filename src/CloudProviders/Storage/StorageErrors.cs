using System.Data.Common;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace CloudProviders.Storage;

/// <summary>A storage fault, told to an operator in plain words: what is wrong with the file, and what to do.</summary>
internal static class StorageErrors
{
    public static string Describe(DbException exception, string sqlitePath) => exception switch
    {
        SqliteException sqlite => Describe(sqlite, sqlitePath),
        _ => PostgresEngine.Describe(exception) ?? "The database could not be used; check it, then try again.",
    };

    private static string Describe(SqliteException exception, string path)
    {
        var full = Path.GetFullPath(path);
        return exception.SqliteErrorCode switch
        {
            raw.SQLITE_NOTADB => $"{full} is not a SQLite database; point Database:Path (or --db) at the service's database file.",
            raw.SQLITE_CORRUPT => $"{full} is damaged; restore it from a backup.",
            raw.SQLITE_BUSY or raw.SQLITE_LOCKED => $"{full} is locked by another process; try again in a moment.",
            raw.SQLITE_READONLY => $"{full} cannot be written; check its permissions and its folder's, or set Database:ReadOnly=true for a replica.",
            raw.SQLITE_FULL => $"The disk that holds {full} is full; free some space and try again.",
            raw.SQLITE_PERM or raw.SQLITE_AUTH => $"{full} cannot be opened with this user's permissions; check the file's owner and mode.",
            raw.SQLITE_CANTOPEN when Directory.Exists(full) => $"{full} is a folder; give the path of the database file.",
            raw.SQLITE_CANTOPEN when !File.Exists(full) => $"{full} does not exist; run cloud-providers migrate to create it.",
            raw.SQLITE_CANTOPEN => $"{full} cannot be opened; check that it is a readable file and its folder is writable.",
            raw.SQLITE_IOERR => $"Reading or writing {full} failed; check the disk and the file.",
            _ => $"The database {full} could not be used; check the file, or restore it from a backup.",
        };
    }
}
