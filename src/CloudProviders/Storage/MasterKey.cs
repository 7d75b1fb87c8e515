using System.Security.Cryptography;

namespace CloudProviders.Storage;

/// <summary>
/// Finds the 32-byte master key: <c>Encryption:Key</c> (base64), else <c>Encryption:KeyFile</c>,
/// else the development key file beside the database (<see cref="DevelopmentKeyPath"/>), which
/// <see cref="StorageStartup"/> generates, mode 0600, only for a database that holds no key yet.
/// </summary>
internal static class MasterKey
{
    public const int Size = 32;

    /// <summary>A master key and where it came from, for messages.</summary>
    public sealed record Found(byte[] Key, string Source);

    /// <summary>
    /// The development key file of a database: beside the file the path really names (symbolic
    /// links followed), so that every process that reaches the database by any path finds one key.
    /// </summary>
    public static string DevelopmentKeyPath(string databasePath)
    {
        var full = Path.GetFullPath(databasePath);
        var real = FileStatus.RealPath(full)
            ?? (FileStatus.RealPath(Path.GetDirectoryName(full)!) is { } folder ? Path.Combine(folder, Path.GetFileName(full)) : full);
        return real + ".key";
    }

    /// <summary>The configured key, else the development key file's; null when neither exists yet.</summary>
    /// <exception cref="ConfigurationException">A key is configured but unreadable, unsafe or malformed.</exception>
    public static Found? Find(Settings settings, string? developmentKeyPath, Action<string> warn)
    {
        if (settings.EncryptionKey is { } inline)
        {
            return new Found(Decode(inline, "Encryption:Key"), "Encryption:Key");
        }
        if (settings.EncryptionKeyFile is { } file)
        {
            return new Found(FromFile(file, "Encryption:KeyFile", warn), $"Encryption:KeyFile {file}");
        }
        return developmentKeyPath is not null && File.Exists(developmentKeyPath)
            ? new Found(FromFile(developmentKeyPath, "The development key file", warn), $"the development key file {developmentKeyPath}")
            : null;
    }

    /// <summary>Reads a key file: held to <see cref="SecretFile"/>'s rules, then the base64 of exactly 32 bytes.</summary>
    public static byte[] FromFile(string path, string what, Action<string> warn) =>
        Decode(SecretFile.Read(path, what, warn), $"{what} {path}");

    /// <summary>Generates the development key file, mode 0600; where another process did it first, reads theirs.</summary>
    public static Found Generate(string path, Action<string> notice, Action<string> warn)
    {
        var key = RandomNumberGenerator.GetBytes(Size);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            writer.WriteLine(Convert.ToBase64String(key));
        }
        catch (IOException) when (File.Exists(path))
        {
            return new Found(FromFile(path, "The development key file", warn), $"the development key file {path}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"Cannot write the development master key file {path}; check that its folder is writable, or set Encryption:KeyFile.");
        }
        notice($"Generated a development master key file {path} (mode 0600). Set Encryption:KeyFile in production.");
        return new Found(key, $"the development key file {path}");
    }

    private static byte[] Decode(string base64, string source)
    {
        var key = new byte[Size + 1];
        if (!Convert.TryFromBase64String(base64.Trim(), key, out var written) || written != Size)
        {
            throw new ConfigurationException($"{source} must hold the base64 of exactly {Size} bytes, such as the output of: head -c 32 /dev/urandom | base64");
        }
        return key[..Size];
    }
}
