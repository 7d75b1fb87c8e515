using System.Security.Cryptography;

namespace CloudProviders.Storage;

/// <summary>
/// Finds the 32-byte master key: <c>Encryption:Key</c> (base64), else <c>Encryption:KeyFile</c>,
/// else a development key file beside the database, generated with mode 0600 on first use.
/// </summary>
internal static class MasterKey
{
    public const int Size = 32;

    /// <param name="notice">Told, once, when a development key file is generated or used.</param>
    public static byte[] Load(Settings settings, Action<string> notice)
    {
        if (settings.EncryptionKey is { } inline)
        {
            return Decode(inline, "Encryption:Key");
        }
        if (settings.EncryptionKeyFile is { } file)
        {
            return Decode(ReadKeyFile(file, "Encryption:KeyFile"), "Encryption:KeyFile");
        }

        var generated = settings.GeneratedKeyFilePath;
        if (File.Exists(generated))
        {
            notice($"Using the development master key file {generated}. Set Encryption:KeyFile in production.");
            return Decode(ReadKeyFile(generated, "the development key file"), generated);
        }

        var key = RandomNumberGenerator.GetBytes(Size);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using var stream = new FileStream(generated, options);
            using var writer = new StreamWriter(stream);
            writer.WriteLine(Convert.ToBase64String(key));
        }
        catch (IOException) when (File.Exists(generated))
        {
            // Another process generated it first: use theirs.
            return Decode(ReadKeyFile(generated, "the development key file"), generated);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"Cannot write the development master key file {generated}: {e.Message}");
        }
        notice($"Generated a development master key file {generated} (mode 0600). Set Encryption:KeyFile in production.");
        return key;
    }

    /// <summary>Reads a key file given on the command line (for rotation).</summary>
    public static byte[] FromFile(string path) => Decode(ReadKeyFile(path, "the key file"), path);

    private static string ReadKeyFile(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"Cannot read {what} at {path}: {e.GetType().Name}.");
        }
    }

    private static byte[] Decode(string base64, string source)
    {
        var key = new byte[Size + 1];
        if (!Convert.TryFromBase64String(base64.Trim(), key, out var written) || written != Size)
        {
            throw new ConfigurationException($"{source} must be the base64 of exactly {Size} bytes.");
        }
        return key[..Size];
    }
}
