using CloudProviders.Auth;
using CloudProviders.Http;
using CloudProviders.Logging;
using CloudProviders.Metrics;
using CloudProviders.Storage;

namespace CloudProviders;

/// <summary>The HTTP service: its services, its pipeline, and what it checks before it listens.</summary>
internal static partial class App
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // The master key's check and the first key's hash need the platform's cryptography.
        CredentialCipher.LoadInBackground();

        // Start from the empty builder and add only what the service uses: each default service of
        // the slim builder is work done at every start. Configuration is read once and never watched.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = args });
        try
        {
            builder.Configuration.AddServiceSources(builder.Environment.ContentRootPath, args);
        }
        catch (InvalidDataException)
        {
            throw ConfigurationSources.MalformedFile(builder.Environment.ContentRootPath);
        }
        configure?.Invoke(builder);

        // Configure Kestrel and routing, and where to listen: 8080 unless told otherwise.
        // Endpoints (and, in the TLS build, their certificates) may come from the standard Kestrel section.
        builder.WebHost.UseKestrelCore().ConfigureKestrel((context, kestrel) =>
            kestrel.Configure(context.Configuration.GetSection("Kestrel"), reloadOnChange: false));
        builder.WebHost.AddInProcessTls();
        builder.Services.AddRoutingCore();
        if (builder.Configuration["urls"] is null && builder.Configuration["http_ports"] is null)
        {
            builder.WebHost.UseUrls(ListenUrls.DefaultUrl);
        }

        // Configure logging: the console, and the framework's per-request chatter only when asked for.
        builder.Services.AddConsoleLog();

        // Configure settings, storage and callers: the composition root the admin commands share.
        var services = builder.Services;
        services.AddSingleton(sp => new StartupNotices(
            notice => LogNotice(Logger(sp), notice),
            warning => LogNotice(Logger(sp), warning)));
        services.AddCloudProviders();
        services.AddSingleton(sp => new PrometheusExposition(new PrometheusExposition.BuildInfo(Flavour, sp.GetRequiredService<Settings>().Engine.Name())));
        services.AddApiDescriptionGenerator();

        // Configure shutdown: SIGTERM turns readiness 503 at once, requests keep being served for
        // Shutdown:DrainSeconds, then those in flight get Shutdown:TimeoutSeconds to finish.
        services.AddOptions<HostOptions>().Configure<Settings>((host, settings) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(settings.ShutdownTimeoutSeconds));

        var app = builder.Build();

        // Configure the pipeline: the request log outermost, then the cache rule and error bodies, then routing.
        app.UseRequestLog();
        app.UseNoStore();
        app.UseErrorBodies();
        app.UseRouting();
        app.MapHealthApi();
        app.MapMetrics();
        app.MapCredentialApi();
        app.MapOpenApiDocument();
        return app;
    }

    /// <summary>
    /// Everything that must hold before the first request: valid configuration, a migrated
    /// database, the database's master key. Every setting is checked before any file is created
    /// or changed. Throws <see cref="ConfigurationException"/> with one clear line.
    /// </summary>
    public static void Initialize(IServiceProvider services)
    {
        var logger = Logger(services);
        InProcessTls.ValidateListeners(services.GetRequiredService<IConfiguration>());
        var settings = services.GetRequiredService<Settings>();
        var jwt = services.GetRequiredService<JwtValidator>();
        var database = services.GetRequiredService<Database>();
        // Watching first, so that changes are heard from the database's preparation on: on
        // PostgreSQL the listener keeps the migrations' connection; on SQLite the watch holds its
        // own, opened before the preparation's.
        services.GetRequiredService<IChangeWatch>();
        if (database.ReadOnly)
        {
            // A replica never writes: no migration, no key file. Readiness reports a schema mismatch.
            if (!database.IsReady(out var problem))
            {
                LogNotice(logger, $"Read-only replica of {database.Name} is not ready: {problem}");
            }
        }
        else
        {
            var storage = services.GetRequiredService<StorageStartup>();
            try
            {
                Migrated(logger, database, storage.Prepare());
            }
            catch (Exception e) when (storage.IsWorthWaitingFor(e))
            {
                // A shared database that is down, or being migrated by another instance: start
                // anyway, answer 503 (readiness too), and prepare it as soon as it can be.
                LogNotice(logger, $"{database.Name} is not ready ({StorageErrors.Describe((System.Data.Common.DbException)e, database.Name)}); answering 503 and trying again until it is.");
                var application = services.GetRequiredService<IHostApplicationLifetime>();
                _ = storage.PrepareWhenReachableAsync(
                    prepared =>
                    {
                        LogNotice(logger, $"{database.Name} is ready.");
                        Migrated(logger, database, prepared);
                    },
                    failure =>
                    {
                        LogFatal(logger, failure is System.Data.Common.DbException storageFault ? StorageErrors.Describe(storageFault, database.Name) : failure.Message);
                        Environment.ExitCode = ExitCodeOnFailure;
                        application.StopApplication();
                    },
                    application.ApplicationStopping);
            }
        }
        if (!jwt.Enabled)
        {
            LogNotice(logger, "No JWT key is configured (Jwt:SigningKey or Jwt:PublicKeysFile): JWT callers get 401.");
        }

        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        // When the server has stopped, the keys' last uses noted since the last write are written.
        lifetime.ApplicationStopped.Register(services.GetRequiredService<KeyUses>().FlushOnStop);

        var drain = services.GetRequiredService<ShutdownDrain>();
        // Under systemd (Type=notify): ready once listening, and stopping from SIGTERM on.
        lifetime.ApplicationStarted.Register(() => SystemdNotify.Send(SystemdNotify.Ready));
        lifetime.ApplicationStopping.Register(() =>
        {
            SystemdNotify.Send(SystemdNotify.Stopping);
            drain.Start();
            if (settings.DrainSeconds > 0)
            {
                // Still serving: the load balancer sees readiness fail and stops sending traffic.
                Thread.Sleep(TimeSpan.FromSeconds(settings.DrainSeconds));
            }
        });
    }

    /// <summary>The optional parts this build carries, as <c>cloud_providers_build_info</c> names them.</summary>
    private static string Flavour =>
        string.Join('+', new[] { PostgresEngine.Included ? "postgres" : null, InProcessTls.Included ? "tls" : null }.OfType<string>()) is { Length: > 0 } parts
            ? parts
            : "default";

    /// <summary>What a process that stops on a failure it cannot get past exits with (as a failed start does).</summary>
    private const int ExitCodeOnFailure = 1;

    private static void Migrated(ILogger logger, Database database, StorageStartup.Prepared prepared)
    {
        if (prepared.PreviousVersion != Schema.Version)
        {
            LogMigrated(logger, database.Name, prepared.PreviousVersion, Schema.Version);
        }
    }

    /// <summary>A plain category, not <c>ILogger&lt;T&gt;</c>: the generic would be built by the AOT type loader at start-up.</summary>
    private static ILogger Logger(IServiceProvider services) =>
        services.GetRequiredService<ILoggerFactory>().CreateLogger("CloudProviders");

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Notice}")]
    private static partial void LogNotice(ILogger logger, string notice);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Problem} The service stops.")]
    private static partial void LogFatal(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Migrated {Path} from schema version {From} to {To}.")]
    private static partial void LogMigrated(ILogger logger, string path, int from, int to);
}
