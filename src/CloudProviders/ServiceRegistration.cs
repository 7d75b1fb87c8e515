using CloudProviders.Auth;
using CloudProviders.Http;
using CloudProviders.Storage;
using CloudProviders.Upstream;

namespace CloudProviders;

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

        // Storage: the engines this build carries, and the database the configuration names.
        services.AddSqliteEngine();
        services.AddPostgresEngine();
        services.AddStorage();

        // The providers' APIs, where a key is tested.
        services.AddUpstream();

        // Callers: who they are, what they may do, and how an HTTP request says so.
        services.AddSingleton<JwtValidator>();
        services.AddSingleton<Authenticator>();
        services.AddSingleton<AccessPolicy>();
        services.AddSingleton<CallerResolution>();
        services.AddSingleton(sp => new TeamCooldown(sp.GetRequiredService<TimeProvider>(), TeamCooldown.KeyTestPeriod));
        services.AddSingleton<ShutdownDrain>();
        return services;
    }
}
