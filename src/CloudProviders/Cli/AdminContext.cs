using System.Text.Json;
using CloudProviders.Domain;
using CloudProviders.Http;
using CloudProviders.Storage;
using CloudProviders.Upstream;

namespace CloudProviders.Cli;

/// <summary>What one admin verb works with: the stores on a database prepared as the server prepares it.</summary>
internal sealed class AdminContext
{
    public AdminContext(IConfiguration configuration, TextWriter output, TextWriter error, bool prepare = true)
    {
        Output = output;
        Error = error;
        // The server's own services, without a web host.
        var services = new ServiceCollection()
            .AddSingleton(configuration)
            .AddSingleton(new StartupNotices(
                notice => error.WriteLine($"note: {Printable.Escape(notice)}"),
                warning => error.WriteLine($"warning: {Printable.Escape(warning)}")))
            .AddCloudProviders()
            .BuildServiceProvider();
        Settings = services.GetRequiredService<Settings>();
        Notices = services.GetRequiredService<StartupNotices>();
        Database = services.GetRequiredService<Database>();
        Storage = services.GetRequiredService<StorageStartup>();
        // A replica is never written: no migration, no key file, and any write fails in SQLite.
        // Anywhere else the database is prepared before the verb acts, as the server prepares it.
        if (prepare && !Settings.ReadOnly)
        {
            Storage.Prepare();
        }
        Time = services.GetRequiredService<TimeProvider>();
        Teams = services.GetRequiredService<TeamStore>();
        Keys = services.GetRequiredService<ApiKeyStore>();
        Credentials = services.GetRequiredService<CredentialStore>();
        Audit = services.GetRequiredService<AuditTrail>();
        Tests = services.GetRequiredService<KeyTests>();
    }

    public TextWriter Output { get; }
    public TextWriter Error { get; }
    public Settings Settings { get; }
    public StartupNotices Notices { get; }
    public StorageStartup Storage { get; }
    public TimeProvider Time { get; }
    public Database Database { get; }
    public TeamStore Teams { get; }
    public ApiKeyStore Keys { get; }
    public CredentialStore Credentials { get; }
    public AuditTrail Audit { get; }
    public KeyTests Tests { get; }

    /// <summary>What a verb exits with, when it has more to say than success (a key's test).</summary>
    public int ExitCode { get; set; } = ExitCodes.Ok;

    public void WriteStatus(CredentialStatus status) =>
        Output.WriteLine(JsonSerializer.Serialize(StatusBody.From(status), WireJsonContext.Default.StatusBody));

    /// <summary>One line of tab-separated output, every field escaped: no stored value can add, hide or rewrite a line.</summary>
    public void WriteRow(params string[] fields) => Output.WriteLine(string.Join('\t', fields.Select(Printable.Escape)));
}
