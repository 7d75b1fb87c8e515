using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CloudProviders.Logging;

/// <summary>
/// Console logging: the single-line layout of ASP.NET Core's simple formatter, or, with
/// <c>Logging:Console:FormatterName=json</c>, one JSON object per line in the shape of its JSON
/// formatter. Levels come from <c>Logging:LogLevel</c> (and <c>Logging:Console:LogLevel</c>).
/// </summary>
/// <remarks>
/// The framework's console provider works through a dozen options types per formatter, each a
/// generic the Native AOT runtime builds at start-up, a large share of a cold start. This one reads
/// its configuration once. Each line is formatted whole on the caller's thread and handed to a
/// <see cref="LineBuffer"/>, which writes lines in batches: a request makes no write call of its
/// own, lines never interleave, and the buffer is written out when the process stops.
/// </remarks>
internal static class ConsoleLog
{
    public static void AddConsoleLog(this IServiceCollection services)
    {
        services.AddSingleton<ILoggerProvider>(sp =>
        {
            var provider = new LoggerProvider(
                string.Equals(sp.GetRequiredService<IConfiguration>()["Logging:Console:FormatterName"], "json", StringComparison.OrdinalIgnoreCase),
                Console.OpenStandardOutput());
            // The host disposes the provider when it stops; a process that exits otherwise
            // (Environment.Exit, the end of Main) still writes out what is buffered.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => provider.Flush();
            return provider;
        });
        // The factory from AddLogging would build the options machinery for its filters; this one
        // takes them ready-made. Providers stay a service, so tests can swap in their own.
        services.AddSingleton<ILoggerFactory>(sp => new LoggerFactory(
            sp.GetServices<ILoggerProvider>(), Filters(sp.GetRequiredService<IConfiguration>())));
    }

    /// <summary>The framework's request chatter only at Warning, unless configuration says otherwise.</summary>
    internal static LoggerFilterOptions Filters(IConfiguration configuration)
    {
        var filters = new LoggerFilterOptions { MinLevel = LogLevel.Information };
        filters.Rules.Add(new LoggerFilterRule(null, "Microsoft.AspNetCore", LogLevel.Warning, null));
        // A failed start (a port in use, say) is told by the service itself in one line on stderr;
        // the host would log the same failure again, stack trace and all.
        filters.Rules.Add(new LoggerFilterRule(null, "Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None, null));
        // Hosting starts an Activity for every request whenever its category logs at any level;
        // its own lines (request starting, request finished) are what the request log says.
        filters.Rules.Add(new LoggerFilterRule(null, "Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None, null));
        foreach (var section in new[] { "Logging:LogLevel", "Logging:Console:LogLevel" })
        {
            foreach (var entry in configuration.GetSection(section).GetChildren())
            {
                if (!Enum.TryParse<LogLevel>(entry.Value, ignoreCase: true, out var level))
                {
                    throw new ConfigurationException($"{section}:{entry.Key} must be a log level (Trace, Debug, Information, Warning, Error, Critical, None).");
                }
                var category = string.Equals(entry.Key, "Default", StringComparison.OrdinalIgnoreCase) ? null : entry.Key;
                filters.Rules.Add(new LoggerFilterRule(null, category, level, null));
            }
        }
        return filters;
    }

    internal sealed class LoggerProvider : ILoggerProvider
    {
        private readonly bool _json;
        private readonly LineBuffer _lines;

        /// <summary>Each thread formats its lines in a buffer of its own, used again for every line.</summary>
        [ThreadStatic]
        private static ArrayBufferWriter<byte>? t_line;

        public LoggerProvider(bool json, Stream output)
        {
            _json = json;
            _lines = new LineBuffer(output, DroppedLine);
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        /// <summary>Writes out the lines still buffered.</summary>
        public void Flush() => _lines.Flush();

        public void Dispose() => _lines.Dispose();

        internal void Write<TState>(Logger logger, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = t_line ??= new ArrayBufferWriter<byte>(256);
            line.ResetWrittenCount();
            Format(line, logger.Category, logger.CategoryUtf8, level, eventId, state, exception, formatter);
            // Warnings and worse are rare and wanted at once; request lines go with their batch.
            _lines.Append(line.WrittenSpan, urgent: level >= LogLevel.Warning);
        }

        /// <summary>The line that tells of lines dropped while the output was not read.</summary>
        private byte[] DroppedLine(long count)
        {
            const string category = "CloudProviders.Logging";
            var line = new ArrayBufferWriter<byte>(256);
            var message = $"{count} log lines were dropped: the output was not read fast enough.";
            Format(line, category, Encoding.UTF8.GetBytes(category), LogLevel.Warning, default, message, null, static (text, _) => text);
            return line.WrittenSpan.ToArray();
        }

        /// <param name="categoryUtf8">The category as the plain layout writes it.</param>
        private void Format<TState>(
            ArrayBufferWriter<byte> line, string category, byte[] categoryUtf8, LogLevel level, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            if (_json)
            {
                WriteJson(line, category, level, eventId, state, exception, formatter(state, exception));
            }
            else
            {
                WritePlain(line, categoryUtf8, level, eventId, state, exception, formatter);
            }
        }

        private static void WritePlain<TState>(ArrayBufferWriter<byte> line, byte[] category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // The simple formatter's single-line layout: "info: Category[7] message". Whatever the
            // message carries from a request is escaped, so one entry is always exactly one line.
            var name = ShortName(level);
            var prefix = line.GetSpan(name.Length + category.Length + 16);
            name.CopyTo(prefix);
            ": "u8.CopyTo(prefix[name.Length..]);
            category.CopyTo(prefix[(name.Length + 2)..]);
            var at = name.Length + 2 + category.Length;
            prefix[at++] = (byte)'[';
            eventId.Id.TryFormat(prefix[at..], out var written, default, CultureInfo.InvariantCulture);
            at += written;
            "] "u8.CopyTo(prefix[at..]);
            line.Advance(at + 2);
            if (state is IUtf8LogMessage message)
            {
                message.WriteMessage(line);
            }
            else
            {
                Printable.WriteEscaped(line, formatter(state, exception));
            }
            if (exception is not null)
            {
                line.Write(" "u8);
                Printable.WriteEscaped(line, exception.ToString());
            }
            line.Write("\n"u8);
        }

        private static void WriteJson<TState>(ArrayBufferWriter<byte> line, string category, LogLevel level, EventId eventId, TState state, Exception? exception, string message)
        {
            // The relaxed encoder keeps '+' and quotes in messages readable; it still escapes control
            // characters, so no value can break a line.
            using (var writer = new Utf8JsonWriter(line, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                writer.WriteStartObject();
                writer.WriteString("Timestamp", DateTimeOffset.UtcNow);
                writer.WriteNumber("EventId", eventId.Id);
                writer.WriteString("LogLevel", level.ToString());
                writer.WriteString("Category", category);
                writer.WriteString("Message", message);
                if (exception is not null)
                {
                    writer.WriteString("Exception", exception.ToString());
                }
                if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
                {
                    writer.WriteStartObject("State");
                    writer.WriteString("Message", message);
                    foreach (var (key, value) in values)
                    {
                        WriteValue(writer, key, value);
                    }
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
            }
            line.Write("\n"u8);
        }

        private static void WriteValue(Utf8JsonWriter writer, string key, object? value)
        {
            switch (value)
            {
                case null: writer.WriteNull(key); break;
                case bool flag: writer.WriteBoolean(key, flag); break;
                case int number: writer.WriteNumber(key, number); break;
                case long number: writer.WriteNumber(key, number); break;
                case double number: writer.WriteNumber(key, number); break;
                default: writer.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture)); break;
            }
        }

        private static ReadOnlySpan<byte> ShortName(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce"u8,
            LogLevel.Debug => "dbug"u8,
            LogLevel.Information => "info"u8,
            LogLevel.Warning => "warn"u8,
            LogLevel.Error => "fail"u8,
            _ => "crit"u8,
        };
    }

    internal sealed class Logger(LoggerProvider provider, string category) : ILogger
    {
        public string Category => category;

        /// <summary>The category as the plain layout writes it, encoded once.</summary>
        public byte[] CategoryUtf8 { get; } = Encoding.UTF8.GetBytes(Printable.Escape(category));

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        // The factory has already applied the configured filters.
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(this, logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
