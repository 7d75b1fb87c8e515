using System.CommandLine;
using CloudProviders.Storage;
using static CloudProviders.Cli.AdminCommands;

namespace CloudProviders.Cli;

/// <summary>The <c>import</c> verb: a SQLite database moved up to the configured PostgreSQL database.</summary>
internal static class ImportCommand
{
    public static Command Build(Option<string?> db, Usage.Arguments split)
    {
        var from = new Option<string>("--from-sqlite") { Description = "The SQLite file to copy (left as it is).", Required = true };
        var import = new Command("import", "Copy a SQLite database into the configured PostgreSQL database (Database:Engine=postgres), which must be empty, in one transaction.") { from };
        import.SetAction(parse => Run(parse, split, db, () =>
        {
            if (!PostgresEngine.Included)
            {
                throw new CliException("import copies into PostgreSQL, which needs the PostgreSQL build of cloud-providers (dotnet publish -p:Postgres=true).");
            }
            var path = Path.GetFullPath(parse.GetValue(from)!);
            if (!File.Exists(path))
            {
                throw new CliException($"{path} does not exist: give the SQLite file to import with --from-sqlite.");
            }
            return admin => Import(admin, path);
        }, prepare: false));
        return import;
    }

    private static void Import(AdminContext admin, string path)
    {
        if (admin.Settings.Engine != DatabaseEngine.Postgres)
        {
            throw new CliException("import copies into PostgreSQL: set Database:Engine=postgres and Database:ConnectionString to the target database.");
        }
        // The source is read, never written: checked first, then the target is prepared and filled.
        var key = MasterKey.Find(admin.Settings, null, admin.Notices.Warning)
            ?? throw new CliException("import needs the source's master key: set Encryption:KeyFile to it (for a development database, the .key file beside it).");
        foreach (var (table, rows) in PostgresEngine.Import(admin.Database, path, key, () => admin.Storage.Prepare()))
        {
            admin.WriteRow(table, rows.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
