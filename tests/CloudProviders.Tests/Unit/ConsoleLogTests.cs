using System.Text;
using System.Text.Json;
using CloudProviders.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace CloudProviders.Tests.Unit;

public sealed class ConsoleLogTests
{
    [Fact]
    public void A_json_line_is_one_object_with_the_message_template_values_in_its_state()
    {
        var output = new MemoryStream();
        using (var provider = new ConsoleLog.LoggerProvider(json: true, output))
        {
            provider.CreateLogger("CloudProviders.Requests").LogInformation(new EventId(1), "{Method} {Path} {StatusCode}", "GET", "/a\nb", 200);
        }
        var text = Encoding.UTF8.GetString(output.ToArray());
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var line = Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal(1, root.GetProperty("EventId").GetInt32());
        Assert.Equal("Information", root.GetProperty("LogLevel").GetString());
        Assert.Equal("CloudProviders.Requests", root.GetProperty("Category").GetString());
        Assert.Equal("GET /a\nb 200", root.GetProperty("Message").GetString());
        Assert.Equal(200, root.GetProperty("State").GetProperty("StatusCode").GetInt32());
        Assert.Equal("/a\nb", root.GetProperty("State").GetProperty("Path").GetString());
        Assert.True(root.TryGetProperty("Timestamp", out _));
    }

    [Fact]
    public void A_plain_entry_is_one_line_naming_level_category_and_event_with_every_control_character_escaped()
    {
        var output = new MemoryStream();
        using (var provider = new ConsoleLog.LoggerProvider(json: false, output))
        {
            var logger = provider.CreateLogger("CloudProviders");
            logger.LogWarning(new EventId(7), "first\nsecond\r\u001b[2K\u0085\u2028\u202e\t\u007f\\n");
            logger.LogError(new EventId(8), new InvalidOperationException("line one\nline two"), "failed");
        }
        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal(@"warn: CloudProviders[7] first\nsecond\r\u001b[2K\u0085\u2028\u202e\t\u007f\\n", lines[0]);
        Assert.StartsWith(@"fail: CloudProviders[8] failed System.InvalidOperationException: line one\nline two", lines[1], StringComparison.Ordinal);
        Assert.Equal("", lines[2]);
    }

    [Fact]
    public void Levels_come_from_configuration_and_the_framework_request_chatter_defaults_to_warning()
    {
        var filters = ConsoleLog.Filters(Configure(new() { ["Logging:LogLevel:Default"] = "Warning", ["Logging:LogLevel:CloudProviders"] = "debug" }));
        using var factory = new LoggerFactory([new ConsoleLog.LoggerProvider(json: false, new MemoryStream())], filters);
        Assert.False(factory.CreateLogger("Other").IsEnabled(LogLevel.Information));
        Assert.True(factory.CreateLogger("CloudProviders.Requests").IsEnabled(LogLevel.Debug));

        using var defaults = new LoggerFactory([new ConsoleLog.LoggerProvider(json: false, new MemoryStream())], ConsoleLog.Filters(Configure([])));
        Assert.True(defaults.CreateLogger("CloudProviders.Requests").IsEnabled(LogLevel.Information));
        // Not even Critical: at any level, hosting would start an Activity for every request.
        Assert.False(defaults.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Critical));
        Assert.True(defaults.CreateLogger("Microsoft.Hosting.Lifetime").IsEnabled(LogLevel.Information));
    }

    [Fact]
    public void An_unknown_level_is_a_configuration_error_that_names_the_key()
    {
        var error = Assert.Throws<ConfigurationException>(() => ConsoleLog.Filters(Configure(new() { ["Logging:LogLevel:Default"] = "Loud" })));
        Assert.Contains("Logging:LogLevel:Default", error.Message, StringComparison.Ordinal);
    }

    private static IConfiguration Configure(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
