namespace CloudProviders.Storage;

/// <summary>Storage's part of the composition root: the engines, the database the configuration names, its stores and caches.</summary>
internal static class StorageServices
{
    /// <summary>The embedded engine, in every build.</summary>
    public static IServiceCollection AddSqliteEngine(this IServiceCollection services) =>
        services.AddSingleton(new StorageEngine(DatabaseEngine.Sqlite, (settings, _) => new SqliteDatabase(settings.DatabasePath, settings.ReadOnly)));

    /// <remarks>Needs <see cref="Settings"/>, <see cref="StartupNotices"/> and the engines registered beside it.</remarks>
    public static IServiceCollection AddStorage(this IServiceCollection services)
    {
        // The database, prepared (master key checked, migrated) before the first write.
        services.AddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<Settings>();
            var engine = sp.GetServices<StorageEngine>().LastOrDefault(e => e.Kind == settings.Engine)
                ?? throw new ConfigurationException(
                    $"Database:Engine={settings.Engine.Name()} needs the PostgreSQL build of cloud-providers (dotnet publish -p:Postgres=true, or the image built with --build-arg POSTGRES=true); this build has SQLite only.");
            return engine.Open(settings, sp.GetRequiredService<StartupNotices>());
        });
        services.AddSingleton<StorageStartup>();
        services.AddSingleton(sp => sp.GetRequiredService<StorageStartup>().Cipher);
        services.AddSingleton(sp => new CredentialStore(
            sp.GetRequiredService<Database>(),
            sp.GetRequiredService<TimeProvider>(),
            // Not cached until it succeeds: a shared database may be prepared after requests start.
            new Lazy<CredentialCipher>(() => sp.GetRequiredService<StorageStartup>().Cipher, LazyThreadSafetyMode.PublicationOnly)));
        services.AddSingleton<TeamStore>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<AuditTrail>();
        services.AddSingleton(sp => sp.GetRequiredService<Database>().WatchChanges(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ReadCache>();
        services.AddSingleton<KeyUses>();
        return services;
    }
}
