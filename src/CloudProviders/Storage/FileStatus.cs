using System.Runtime.InteropServices;

namespace CloudProviders.Storage;

/// <summary>
/// What <c>statx</c> says of a path, following symbolic links: whether it exists, its identity
/// (device and inode, which stay the same while the path names the same file), its owner and its
/// permission bits. <c>statx</c> rather than <c>stat</c> because its layout is the same on every
/// architecture, and the runtime offers neither the owner nor the identity.
/// </summary>
internal readonly partial record struct FileStatus(bool Exists, uint DevMajor, uint DevMinor, ulong Inode, uint OwnerId, UnixFileMode Mode)
{
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1, StatxMode = 0x2, StatxUid = 0x8, StatxIno = 0x100;

    /// <summary>The file's identity alone, for comparing two looks at one path.</summary>
    public (bool, uint, uint, ulong) Identity => (Exists, DevMajor, DevMinor, Inode);

    public static FileStatus Of(string path)
    {
        Span<byte> buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, 0, StatxType | StatxMode | StatxUid | StatxIno, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            return default;
        }
        // struct statx: stx_uid at 20, stx_mode at 28, stx_ino at 32, stx_dev_major at 136, stx_dev_minor at 140.
        return new FileStatus(
            true,
            MemoryMarshal.Read<uint>(buffer[136..]),
            MemoryMarshal.Read<uint>(buffer[140..]),
            MemoryMarshal.Read<ulong>(buffer[32..]),
            MemoryMarshal.Read<uint>(buffer[20..]),
            (UnixFileMode)(MemoryMarshal.Read<ushort>(buffer[28..]) & 0xFFF));
    }

    /// <summary>The process's effective user id: the owner a secret file should have, besides root.</summary>
    public static uint CurrentUserId => GetEffectiveUserId();

    /// <summary>The path with every symbolic link and <c>..</c> resolved, or null where some part of it does not exist.</summary>
    public static string? RealPath(string path)
    {
        var resolved = ResolvePath(path, 0);
        if (resolved == 0)
        {
            return null;
        }
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, ref byte buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint ResolvePath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);
}
