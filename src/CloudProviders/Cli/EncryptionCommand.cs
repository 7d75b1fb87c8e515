using System.CommandLine;
using CloudProviders.Storage;
using static CloudProviders.Cli.AdminCommands;

namespace CloudProviders.Cli;

/// <summary>The <c>encryption</c> verb. The master key: rotate.</summary>
internal static class EncryptionCommand
{
    public static Command Build(Option<string?> db, Usage.Arguments split)
    {
        var encryption = new Command("encryption", "Manage the master key that encrypts provider keys at rest.");
        var newKeyFile = new Option<string>("--new-key-file") { Description = "A file holding the new key: base64 of 32 bytes.", Required = true };
        var rotate = new Command("rotate", "Re-encrypt every stored key under a new master key, in one transaction.") { newKeyFile };
        rotate.SetAction(parse => Run(parse, split, db, () =>
        {
            var path = parse.GetValue(newKeyFile)!;
            var next = MasterKey.FromFile(path, "--new-key-file", warning => Console.Error.WriteLine($"warning: {Printable.Escape(warning)}"));
            return admin =>
            {
                int count;
                try
                {
                    count = admin.Credentials.Reencrypt(new CredentialCipher(next));
                }
                catch (System.Security.Cryptography.CryptographicException)
                {
                    throw new CliException("A stored key does not open under the current master key; nothing was changed.");
                }
                admin.Output.WriteLine(Printable.Escape($"Re-encrypted {count} key(s). Point Encryption:KeyFile at {Path.GetFullPath(path)} before the next write."));
            };
        }));
        encryption.Subcommands.Add(rotate);
        return encryption;
    }
}
