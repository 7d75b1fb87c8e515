using System.Text;

namespace CloudProviders.Storage;

/// <summary>
/// Reads a file that holds a secret (the master key), held to the rules ssh and PostgreSQL apply
/// to private keys, fitted to where secrets really live. A file that the group or others can
/// write is refused: anyone could swap the key. One that others can read, or that belongs to a
/// user other than the service's own or root, is read with a warning that gives the fix.
/// Kubernetes and Docker secret mounts (root-owned, read-only, 0644 or 0444, reached through
/// symbolic links) pass, with that warning where others can read them.
/// </summary>
internal static class SecretFile
{
    /// <summary>The most a secret file may hold: a base64 key is 44 bytes, so anything near this is a mistake.</summary>
    public const int MaxBytes = 4096;

    private const UnixFileMode WritableByOthers = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    /// <param name="what">How the file is named in messages, such as <c>Encryption:KeyFile</c>.</param>
    /// <param name="warn">Told once for each thing that is unsafe but not fatal.</param>
    /// <exception cref="ConfigurationException">The file cannot be read, is unsafe, or is too large.</exception>
    public static string Read(string path, string what, Action<string> warn)
    {
        var status = FileStatus.Of(path);
        if (!status.Exists)
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(path));
            throw new ConfigurationException(folder is not null && !Directory.Exists(folder)
                ? $"{what} {path} cannot be read: the folder {folder} does not exist."
                : $"{what} {path} does not exist.");
        }
        if (Directory.Exists(path))
        {
            throw new ConfigurationException($"{what} {path} is a folder; give the path of the file that holds the key.");
        }
        if ((status.Mode & WritableByOthers) != 0)
        {
            throw new ConfigurationException(
                $"{what} {path} can be written by users other than its owner, so anyone could swap the key; fix it with: chmod go-w {RealPathOf(path)}");
        }
        var owner = status.OwnerId;
        var self = FileStatus.CurrentUserId;
        if (owner != self && owner != 0)
        {
            warn($"{what} {path} belongs to user {owner}, not to this service's user ({self}) or root; fix it with: chown {self} {RealPathOf(path)}");
        }
        if ((status.Mode & UnixFileMode.OtherRead) != 0)
        {
            warn($"{what} {path} can be read by every user; fix it with: chmod 600 {RealPathOf(path)} (for a Kubernetes secret, set defaultMode: 0400).");
        }
        return ReadBounded(path, what);
    }

    private static string ReadBounded(string path, string what)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            var bytes = ReadAtMost(stream, MaxBytes)
                ?? throw new ConfigurationException($"{what} {path} holds more than {MaxBytes} bytes; it should hold only the base64 of the key.");
            return Encoding.UTF8.GetString(bytes);
        }
        catch (UnauthorizedAccessException)
        {
            throw new ConfigurationException($"{what} {path} cannot be read by this service's user ({FileStatus.CurrentUserId}); give that user read access.");
        }
        catch (IOException)
        {
            throw new ConfigurationException($"{what} {path} cannot be read; check that it is a readable file.");
        }
    }

    /// <summary>
    /// All of a stream, when it holds at most <paramref name="maxBytes"/>; null as soon as it holds
    /// more, having read no further than one byte past the limit.
    /// </summary>
    public static byte[]? ReadAtMost(Stream stream, int maxBytes)
    {
        var buffer = new byte[maxBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
        {
            length += read;
        }
        return length > maxBytes ? null : buffer[..length];
    }

    private static string RealPathOf(string path) => FileStatus.RealPath(path) ?? path;
}
