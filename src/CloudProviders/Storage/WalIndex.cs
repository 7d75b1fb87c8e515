using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace CloudProviders.Storage;

/// <summary>
/// The header of a WAL-mode database's WAL index, read from SQLite's own mapping of the
/// <c>-shm</c> file (https://www.sqlite.org/walformat.html). Every commit, from any process,
/// rewrites it, so comparing it tells whether the database may have changed, with no system
/// call, where <c>PRAGMA data_version</c> takes a read transaction's locks and <c>fstat</c>.
/// </summary>
/// <remarks>
/// The mapping is SQLite's (through <c>SQLITE_FCNTL_FILE_POINTER</c> and the VFS's
/// <c>xShmMap</c>), not a second one: opening the <c>-shm</c> file again would let its close
/// drop the process's POSIX locks. It lives as long as the connection that made it.
/// </remarks>
internal readonly unsafe partial struct WalIndex
{
    private const int SqliteOk = 0;
    private const int FileControlFilePointer = 7;
    private const int HeaderSize = 48;

    private readonly byte* _region;

    private WalIndex(byte* region) => _region = region;

    /// <summary>The 48-byte header, as one value to compare.</summary>
    [InlineArray(HeaderSize / sizeof(ulong))]
    internal struct Header : IEquatable<Header>
    {
        private ulong _word;

        public readonly bool Equals(Header other) =>
            MemoryMarshal.CreateReadOnlySpan(in _word, HeaderSize / sizeof(ulong))
                .SequenceEqual(MemoryMarshal.CreateReadOnlySpan(in other._word, HeaderSize / sizeof(ulong)));

        public override readonly bool Equals(object? obj) => obj is Header other && Equals(other);

        public override readonly int GetHashCode() => _word.GetHashCode();

        public static bool operator ==(Header left, Header right) => left.Equals(right);

        public static bool operator !=(Header left, Header right) => !left.Equals(right);
    }

    /// <summary>
    /// The WAL index of the connection's main database, once a read has mapped it; otherwise
    /// (not in WAL mode, or SQLite keeps the index in heap memory) none, and callers fall back
    /// to <c>PRAGMA data_version</c>.
    /// </summary>
    public static WalIndex Of(SqliteConnection connection)
    {
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "PRAGMA journal_mode;";
            if (command.ExecuteScalar() is not string mode || !mode.Equals("wal", StringComparison.OrdinalIgnoreCase))
            {
                return default;
            }
        }
        var db = connection.Handle!.DangerousGetHandle();
        nint file;
        fixed (byte* main = "main"u8)
        {
            if (FileControl(db, main, FileControlFilePointer, &file) != SqliteOk || file == 0)
            {
                return default;
            }
        }
        // struct sqlite3_file { const sqlite3_io_methods* pMethods; }; sqlite3_io_methods starts
        // with int iVersion (padded to a pointer), then twelve methods, then xShmMap (version 2+).
        var methods = *(byte**)file;
        if (methods is null || *(int*)methods < 2)
        {
            return default;
        }
        var shmMap = (delegate* unmanaged<nint, int, int, int, void**, int>)(*(nint*)(methods + sizeof(nint) * 13));
        void* region;
        // Region 0, not extended: the mapping the read made, or nothing.
        return shmMap(file, 0, 32 * 1024, 0, &region) == SqliteOk && region is not null
            ? new WalIndex((byte*)region)
            : default;
    }

    /// <summary>
    /// Reads the header as SQLite's readers do: the first copy, a barrier, the second copy; a
    /// writer updates them in the other order, so equal copies are a whole header.
    /// </summary>
    public bool TryRead(out Header header)
    {
        header = default;
        if (_region is null)
        {
            return false;
        }
        Header second = default;
        Unsafe.CopyBlockUnaligned(ref Unsafe.As<Header, byte>(ref header), ref *_region, HeaderSize);
        Interlocked.MemoryBarrier();
        Unsafe.CopyBlockUnaligned(ref Unsafe.As<Header, byte>(ref second), ref *(_region + HeaderSize), HeaderSize);
        // isInit (byte 12) is set once a writer or recovery has built the index.
        return header == second && _region[12] != 0;
    }

    [LibraryImport("e_sqlite3", EntryPoint = "sqlite3_file_control")]
    private static partial int FileControl(nint db, byte* name, int op, void* arg);
}
