using CloudProviders.Auth;
using CloudProviders.Http;
using CloudProviders.Storage;

namespace CloudProviders;

/// <summary>Where the process tells an operator what start-up did or found: the log for <c>serve</c>, stderr for the admin commands.</summary>
/// <param name="Notice">Something done on the operator's behalf, such as generating a development key.</param>
/// <param name="Warning">Something unsafe but usable, such as a key file others can read.</param>
internal sealed record StartupNotices(Action<string> Notice, Action<string> Warning);

/// <summary>
/// The one composition root: the service's settings, storage, callers and HTTP services, for the
/// web host and, without one, for the admin commands, so that both work on exactly the same
/// objects built from exactly the same configuration.
/// </summary>
internal static class ServiceRegistration
{
    /// <remarks>Needs an <see cref="IConfiguration"/> and a <see cref="StartupNotices"/> registered beside it.</remarks>
    public static IServiceCollection AddCloudProviders(this IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => Settings.From(sp.GetRequiredService<IConfiguration>()));

        // Storage: the database, prepared (master key checked, migrated) before the first write.
        services.AddSingleton<Database>(sp =>
        {
            var settings = sp.GetRequiredService<Settings>();
#if POSTGRES
            if (settings.Engine == DatabaseEngine.Postgres)
            {
                return PostgresDatabase.Create(settings.ConnectionString!, settings.PasswordFile, sp.GetRequiredService<StartupNotices>().Warning);
            }
#endif
            return new SqliteDatabase(settings.DatabasePath, settings.ReadOnly);
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

        // Callers: who they are, what they may do, and how an HTTP request says so.
        services.AddSingleton<JwtValidator>();
        services.AddSingleton<Authenticator>();
        services.AddSingleton<AccessPolicy>();
        services.AddSingleton<CallerResolution>();
        services.AddSingleton<ShutdownDrain>();
        return services;
    }
}
