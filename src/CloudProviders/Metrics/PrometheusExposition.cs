using System.Diagnostics.Metrics;
using System.Numerics;
using System.Globalization;
using System.Text;

namespace CloudProviders.Metrics;

/// <summary>
/// <see cref="ServiceMetrics"/>' instruments, collected by a <see cref="MeterListener"/> and
/// written in Prometheus' text exposition format (0.0.4). Counters add up, observable instruments
/// are read at each scrape, histograms keep cumulative buckets sized for a sub-millisecond service.
/// A few dozen lines of aggregation in place of an exporter library that would cost megabytes.
/// </summary>
internal sealed class PrometheusExposition : IDisposable
{
    /// <summary>What <c>cloud_providers_build_info</c> says of the running build, a fact of this process's configuration.</summary>
    /// <param name="Flavour">The optional parts the build carries (<c>default</c>, <c>tls</c>, <c>postgres</c>, <c>postgres+tls</c>).</param>
    /// <param name="Engine">The storage engine in use.</param>
    public sealed record BuildInfo(string Flavour, string Engine);

    private const string BuildInfoName = "cloud_providers_build_info";

    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Upper bounds of the duration buckets, in seconds: 100 µs to 1 s.</summary>
    public static readonly double[] Buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

    private readonly MeterListener _listener = new();
    private readonly Lock _instruments = new();
    private readonly List<Series> _series = [];

    private readonly string _buildInfo;

    public PrometheusExposition(BuildInfo build)
    {
        var version = typeof(PrometheusExposition).Assembly.GetName().Version?.ToString(3) ?? "unknown";
        _buildInfo = $"# HELP {BuildInfoName} The build that is running: always 1, with its version, flavour and storage engine.\n" +
            $"# TYPE {BuildInfoName} gauge\n" +
            $"{BuildInfoName}{{version=\"{Escape(version, quoted: true)}\",flavour=\"{Escape(build.Flavour, quoted: true)}\",engine=\"{Escape(build.Engine, quoted: true)}\"}} 1\n";
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ServiceMetrics.MeterName)
            {
                var series = new Series(instrument);
                lock (_instruments)
                {
                    _series.Add(series);
                }
                listener.EnableMeasurementEvents(instrument, series);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) => ((Series)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, state) => ((Series)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Reads the observable instruments, then writes every series.</summary>
    public string Scrape()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder(4096);
        var buildInfoWritten = false;
        lock (_instruments)
        {
            foreach (var series in _series.OrderBy(s => s.Name, StringComparer.Ordinal))
            {
                if (!buildInfoWritten && string.CompareOrdinal(series.Name, BuildInfoName) > 0)
                {
                    text.Append(_buildInfo);
                    buildInfoWritten = true;
                }
                series.WriteTo(text);
            }
        }
        if (!buildInfoWritten)
        {
            text.Append(_buildInfo);
        }
        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>
    /// One instrument's points, one per label set. A measurement takes no lock: the points are
    /// found in a table that is never changed once published (a new label set publishes a copy,
    /// which happens a few dozen times in a process's life), and each point's numbers are
    /// updated atomically. Request threads never wait for one another here, nor for a scrape.
    /// </summary>
    private sealed class Series(Instrument instrument)
    {
        private readonly Lock _adding = new();
        private volatile PointTable _points = PointTable.Empty;
        private readonly bool _histogram = instrument is Histogram<double>;
        private readonly bool _last = instrument.IsObservable;

        public string Name { get; } = instrument is Counter<long> or ObservableCounter<long> or ObservableCounter<double> ? instrument.Name + "_total" : instrument.Name;

        private string Type => _histogram ? "histogram" : Name.EndsWith("_total", StringComparison.Ordinal) ? "counter" : "gauge";

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var point = Find(tags);
            if (_last)
            {
                Volatile.Write(ref point.Sum, value);
                return;
            }
            point.Add(value);
        }

        private Point Find(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (_points.Find(tags) is { } found)
            {
                return found;
            }
            lock (_adding)
            {
                if (_points.Find(tags) is { } added)
                {
                    return added;
                }
                var created = new Point(tags, _histogram ? new long[Buckets.Length + 1] : null);
                _points = new PointTable([.. _points.All, created]);
                return created;
            }
        }

        public void WriteTo(StringBuilder text)
        {
            var points = _points.All;
            if (points.Length == 0)
            {
                return;
            }
            text.Append("# HELP ").Append(Name).Append(' ').Append(Escape(instrument.Description ?? Name, quoted: false)).Append('\n');
            text.Append("# TYPE ").Append(Name).Append(' ').Append(Type).Append('\n');
            foreach (var point in points.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                var sum = Volatile.Read(ref point.Sum);
                if (!_histogram)
                {
                    text.Append(Name);
                    point.WriteLabels(text, null);
                    text.Append(' ').Append(Number(sum)).Append('\n');
                    continue;
                }
                // The count is the buckets' total, read here: it always agrees with the +Inf bucket.
                long cumulative = 0;
                for (var i = 0; i <= Buckets.Length; i++)
                {
                    cumulative += Volatile.Read(ref point.Buckets![i]);
                    text.Append(Name).Append("_bucket");
                    point.WriteLabels(text, i < Buckets.Length ? Number(Buckets[i]) : "+Inf");
                    text.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
                text.Append(Name).Append("_sum");
                point.WriteLabels(text, null);
                text.Append(' ').Append(Number(sum)).Append('\n');
                text.Append(Name).Append("_count");
                point.WriteLabels(text, null);
                text.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }
    }

    /// <summary>
    /// A series' points as published: open addressing over a power-of-two array at most half
    /// full, probed by a hash of the measurement's tag values, so a lookup builds no key and
    /// makes no call through an interface. The hash is cheap rather than thorough, as it runs at
    /// every measurement: each value's length and its first and last characters, which tell the
    /// few values of a label apart.
    /// </summary>
    private sealed class PointTable
    {
        public static readonly PointTable Empty = new([]);

        private readonly Point?[] _slots;

        public PointTable(Point[] points)
        {
            All = points;
            _slots = new Point?[Math.Max(8, (int)BitOperations.RoundUpToPowerOf2((uint)points.Length * 2))];
            foreach (var point in points)
            {
                var slot = point.Hash & (_slots.Length - 1);
                while (_slots[slot] is not null)
                {
                    slot = (slot + 1) & (_slots.Length - 1);
                }
                _slots[slot] = point;
            }
        }

        public Point[] All { get; }

        public Point? Find(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var hash = Hash(tags);
            for (var slot = hash & (_slots.Length - 1); ; slot = (slot + 1) & (_slots.Length - 1))
            {
                if (_slots[slot] is not { } point)
                {
                    return null;
                }
                if (point.Hash == hash && point.Matches(tags))
                {
                    return point;
                }
            }
        }

        public static int Hash(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var hash = 0;
            foreach (var tag in tags)
            {
                var value = Text(tag);
                hash = hash * 31 + (value.Length == 0 ? 0 : value.Length ^ value[0] << 8 ^ value[^1] << 16);
            }
            return hash & int.MaxValue;
        }

        /// <summary>A tag's value as its label's text.</summary>
        public static string Text(KeyValuePair<string, object?> tag) =>
            tag.Value as string ?? Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "";
    }

    private sealed class Point(ReadOnlySpan<KeyValuePair<string, object?>> tags, long[]? buckets)
    {
        private readonly KeyValuePair<string, string>[] _labels = [.. tags.ToArray().Select(tag => new KeyValuePair<string, string>(tag.Key, PointTable.Text(tag)))];

        /// <summary>A counter's total, a gauge's last value, or a histogram's sum.</summary>
        public double Sum;

        /// <summary>A histogram's count in each bucket (not cumulative; the last one is +Inf).</summary>
        public long[]? Buckets { get; } = buckets;

        public int Hash { get; } = PointTable.Hash(tags);

        public string Key => string.Join(',', _labels.Select(l => $"{l.Key}={l.Value}"));

        /// <summary>True when the tags are this point's labels, in order, by name and value.</summary>
        public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length != _labels.Length)
            {
                return false;
            }
            for (var i = 0; i < tags.Length; i++)
            {
                if (tags[i].Key != _labels[i].Key || PointTable.Text(tags[i]) != _labels[i].Value)
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>Adds a measurement, atomically, without a lock.</summary>
        public void Add(double value)
        {
            if (Buckets is { } buckets)
            {
                var bucket = Array.BinarySearch(PrometheusExposition.Buckets, value);
                Interlocked.Increment(ref buckets[bucket < 0 ? ~bucket : bucket]);
            }
            var sum = Volatile.Read(ref Sum);
            while (true)
            {
                var seen = Interlocked.CompareExchange(ref Sum, sum + value, sum);
                if (seen.Equals(sum))
                {
                    return;
                }
                sum = seen;
            }
        }

        public void WriteLabels(StringBuilder text, string? le)
        {
            if (_labels.Length == 0 && le is null)
            {
                return;
            }
            text.Append('{');
            var first = true;
            foreach (var (key, value) in _labels)
            {
                text.Append(first ? "" : ",").Append(key).Append("=\"").Append(Escape(value, quoted: true)).Append('"');
                first = false;
            }
            if (le is not null)
            {
                text.Append(first ? "" : ",").Append("le=\"").Append(le).Append('"');
            }
            text.Append('}');
        }
    }

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The format's escapes: backslash and line feed always, the double quote inside a label value.</summary>
    private static string Escape(string value, bool quoted)
    {
        var escaped = value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        return quoted ? escaped.Replace("\"", "\\\"", StringComparison.Ordinal) : escaped;
    }
}
