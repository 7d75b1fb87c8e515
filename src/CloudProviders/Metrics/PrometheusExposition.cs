using System.Diagnostics.Metrics;
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
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Upper bounds of the duration buckets, in seconds: 100 µs to 1 s.</summary>
    public static readonly double[] Buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

    private readonly MeterListener _listener = new();
    private readonly Lock _instruments = new();
    private readonly List<Series> _series = [];

    public PrometheusExposition()
    {
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
        lock (_instruments)
        {
            foreach (var series in _series.OrderBy(s => s.Name, StringComparer.Ordinal))
            {
                series.WriteTo(text);
            }
        }
        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>
    /// One instrument's points, one per label set. A measurement takes no lock: the points are
    /// found in a dictionary that is never changed once published (a new label set publishes a
    /// copy, which happens a few dozen times in a process's life), and each point's numbers are
    /// updated atomically. Request threads never wait for one another here, nor for a scrape.
    /// </summary>
    private sealed class Series(Instrument instrument)
    {
        private readonly Lock _adding = new();
        private volatile PointMap _points = new(new(Labels.Comparer));
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
            if (_points.Lookup.TryGetValue(tags, out var found))
            {
                return found;
            }
            lock (_adding)
            {
                var points = _points;
                if (points.Lookup.TryGetValue(tags, out found))
                {
                    return found;
                }
                var labels = new KeyValuePair<string, string>[tags.Length];
                for (var i = 0; i < tags.Length; i++)
                {
                    labels[i] = new(tags[i].Key, Labels.Value(tags[i]));
                }
                var created = new Point(labels, _histogram ? new long[Buckets.Length + 1] : null);
                _points = new PointMap(new Dictionary<KeyValuePair<string, string>[], Point>(points.Lookup.Dictionary, Labels.Comparer) { [labels] = created });
                return created;
            }
        }

        public void WriteTo(StringBuilder text)
        {
            var points = _points.Lookup.Dictionary;
            if (points.Count == 0)
            {
                return;
            }
            text.Append("# HELP ").Append(Name).Append(' ').Append(Escape(instrument.Description ?? Name, quoted: false)).Append('\n');
            text.Append("# TYPE ").Append(Name).Append(' ').Append(Type).Append('\n');
            foreach (var point in points.Values.OrderBy(p => p.Key, StringComparer.Ordinal))
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

    /// <summary>A series' points as published: the dictionary, and its lookup by a measurement's tags without building a key.</summary>
    private sealed class PointMap(Dictionary<KeyValuePair<string, string>[], Point> points)
    {
        public readonly Dictionary<KeyValuePair<string, string>[], Point>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> Lookup =
            points.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
    }

    private sealed class Point(KeyValuePair<string, string>[] labels, long[]? buckets)
    {
        /// <summary>A counter's total, a gauge's last value, or a histogram's sum.</summary>
        public double Sum;

        /// <summary>A histogram's count in each bucket (not cumulative; the last one is +Inf).</summary>
        public long[]? Buckets { get; } = buckets;

        public string Key { get; } = string.Join(',', labels.Select(l => $"{l.Key}={l.Value}"));

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
            if (labels.Length == 0 && le is null)
            {
                return;
            }
            text.Append('{');
            var first = true;
            foreach (var (key, value) in labels)
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

    /// <summary>
    /// A point's labels compared with a measurement's tags, in order, by name and value. The hash
    /// is cheap rather than thorough, as it runs at every measurement: it takes only each value's
    /// length and its first and last characters (which tell the few values of a label apart), and
    /// not the names, which an instrument's tags repeat at every call.
    /// </summary>
    private sealed class Labels :
        IEqualityComparer<KeyValuePair<string, string>[]>,
        IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, KeyValuePair<string, string>[]>
    {
        public static readonly Labels Comparer = new();

        public static string Value(KeyValuePair<string, object?> tag) =>
            tag.Value as string ?? Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "";

        public bool Equals(KeyValuePair<string, string>[]? x, KeyValuePair<string, string>[]? y)
        {
            if (x is null || y is null || x.Length != y.Length)
            {
                return x == y;
            }
            for (var i = 0; i < x.Length; i++)
            {
                if (!string.Equals(x[i].Key, y[i].Key, StringComparison.Ordinal) || !string.Equals(x[i].Value, y[i].Value, StringComparison.Ordinal))
                {
                    return false;
                }
            }
            return true;
        }

        public int GetHashCode(KeyValuePair<string, string>[] labels)
        {
            var hash = 0;
            foreach (var label in labels)
            {
                hash = Combine(hash, label.Value);
            }
            return hash;
        }

        public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> tags, KeyValuePair<string, string>[] labels)
        {
            if (tags.Length != labels.Length)
            {
                return false;
            }
            for (var i = 0; i < tags.Length; i++)
            {
                if (!string.Equals(tags[i].Key, labels[i].Key, StringComparison.Ordinal) || !string.Equals(Value(tags[i]), labels[i].Value, StringComparison.Ordinal))
                {
                    return false;
                }
            }
            return true;
        }

        public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var hash = 0;
            foreach (var tag in tags)
            {
                hash = Combine(hash, Value(tag));
            }
            return hash;
        }

        private static int Combine(int hash, string value) =>
            hash * 31 + (value.Length == 0 ? 0 : value.Length ^ value[0] << 8 ^ value[^1] << 16);

        public KeyValuePair<string, string>[] Create(ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            throw new NotSupportedException("Points are added by their labels.");
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
