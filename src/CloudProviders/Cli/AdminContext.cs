using System.Text.Json;
using CloudProviders.Domain;
using CloudProviders.Http;
using CloudProviders.Storage;

namespace CloudProviders.Cli;

/// <summary>What one admin verb works with: the stores on a database prepared as the server prepares it.</summary>
internal sealed class AdminContext
{
    public AdminContext(IConfiguration configuration, TextWriter output, TextWriter error)
    {
        Output = output;
        // The server's own services, without a web host.
        var services = new ServiceCollection()
            .AddSingleton(configuration)
            .AddSingleton(new StartupNotices(
                notice => error.WriteLine($"note: {Printable.Escape(notice)}"),
                warning => error.WriteLine($"warning: {Printable.Escape(warning)}")))
            .AddCloudProviders()
            .BuildServiceProvider();
        var settings = services.GetRequiredService<Settings>();
        Database = services.GetRequiredService<Database>();
        // A replica is never written: no migration, no key file, and any write fails in SQLite.
        // Anywhere else the database is prepared before the verb acts, as the server prepares it.
        if (!settings.ReadOnly)
        {
            services.GetRequiredService<StorageSetup.Prepared>();
        }
        Time = services.GetRequiredService<TimeProvider>();
        Teams = services.GetRequiredService<TeamStore>();
        Keys = services.GetRequiredService<ApiKeyStore>();
        Credentials = services.GetRequiredService<CredentialStore>();
        Audit = services.GetRequiredService<AuditTrail>();
    }

    public TextWriter Output { get; }
    public TimeProvider Time { get; }
    public Database Database { get; }
    public TeamStore Teams { get; }
    public ApiKeyStore Keys { get; }
    public CredentialStore Credentials { get; }
    public AuditTrail Audit { get; }

    public void WriteStatus(CredentialStatus status) =>
        Output.WriteLine(JsonSerializer.Serialize(StatusBody.From(status), WireJsonContext.Default.StatusBody));

    /// <summary>One line of tab-separated output, every field escaped: no stored value can add, hide or rewrite a line.</summary>
    public void WriteRow(params string[] fields) => Output.WriteLine(string.Join('\t', fields.Select(Printable.Escape)));
}
