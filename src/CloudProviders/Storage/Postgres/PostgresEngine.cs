using System.Data.Common;

namespace CloudProviders.Storage;

/// <summary>
/// The PostgreSQL engine as a part of the build: compiled in with <c>-p:Postgres=true</c>, left
/// out of the default edge binary. This file is the part's one edge, the same in every build; the
/// rest of this folder exists only where the part does.
/// </summary>
internal static class PostgresEngine
{
    /// <summary>Whether this build carries the part.</summary>
    public static bool Included =>
#if POSTGRES
        true;
#else
        false;
#endif

    /// <summary>Makes <c>Database:Engine=postgres</c> open a PostgreSQL database, in the build that carries it.</summary>
    public static IServiceCollection AddPostgresEngine(this IServiceCollection services)
    {
#if POSTGRES
        services.AddSingleton(new StorageEngine(DatabaseEngine.Postgres, (settings, notices) =>
            PostgresDatabase.Create(settings.ConnectionString!, settings.ListenConnectionString, settings.PasswordFile, notices.Warning)));
#endif
        return services;
    }

    /// <summary>A PostgreSQL fault in plain words; null for any other.</summary>
    public static string? Describe(DbException exception) =>
#if POSTGRES
        exception is Npgsql.NpgsqlException postgres ? PostgresErrors.Describe(postgres) : null;
#else
        null;
#endif

    /// <summary>Copies a SQLite database, checked against its master key first, into the configured PostgreSQL one.</summary>
    /// <param name="prepareTarget">Prepares the target (master key, migrations) once the source is known to open.</param>
    /// <returns>Each table and the rows copied into it.</returns>
    public static IReadOnlyList<(string Table, long Rows)> Import(Database target, string sqlitePath, MasterKey.Found sourceKey, Action prepareTarget)
    {
#if POSTGRES
        var source = new SqliteDatabase(sqlitePath, readOnly: true);
        PostgresImport.CheckSource(source, new CredentialCipher(sourceKey.Key), sourceKey.Source);
        prepareTarget();
        return PostgresImport.Copy(source, (PostgresDatabase)target);
#else
        _ = (target, sqlitePath, sourceKey, prepareTarget);
        throw new InvalidOperationException("This build has no PostgreSQL engine.");
#endif
    }
}
