using System.Diagnostics.Metrics;
using System.Globalization;
using CloudProviders.Metrics;

namespace CloudProviders.Tests.Unit;

/// <summary>Measurements made on many threads at once, while new label sets appear, are all counted.</summary>
public sealed class PrometheusExpositionTests
{
    private const int Threads = 8;
    private const int PerThread = 100_000;
    private const int LabelValues = 16;

    private static readonly KeyValuePair<string, object?> Hot = new("n", "hot");

    [Fact]
    public void Concurrent_measurements_and_new_label_sets_lose_nothing()
    {
        using var exposition = new PrometheusExposition(new PrometheusExposition.BuildInfo("default", "sqlite"));
        // An instrument of the service's meter name, so the exposition collects it; a name of its own,
        // so nothing else measures it.
        using var meter = new Meter(ServiceMetrics.MeterName);
        var name = "test_concurrent_" + Guid.NewGuid().ToString("N")[..8];
        var counter = meter.CreateCounter<long>(name);
        var histogram = meter.CreateHistogram<double>(name + "_seconds");

        // Threads of their own, started together: the pool would add its threads one at a time.
        using var start = new Barrier(Threads);
        var workers = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < PerThread; i++)
            {
                // A new string each time: points are found by the labels' text, not the instance.
                var label = new KeyValuePair<string, object?>("n", (i % LabelValues).ToString(CultureInfo.InvariantCulture));
                counter.Add(1, label);
                histogram.Record(i / LabelValues % 2 == 0 ? 0.0003 : 0.002, label);
                // And one point that every thread measures at every step.
                counter.Add(1, Hot);
                histogram.Record(0.0003, Hot);
            }
        })).ToList();
        workers.ForEach(worker => worker.Start());
        workers.ForEach(worker => worker.Join());

        var lines = exposition.Scrape().Split('\n');
        string Value(string series) => Assert.Single(lines, line => line.StartsWith(series + " ", StringComparison.Ordinal))[(series.Length + 1)..];
        const int Each = Threads * PerThread / LabelValues;
        for (var n = 0; n < LabelValues; n++)
        {
            Assert.Equal(Each.ToString(CultureInfo.InvariantCulture), Value($"{name}_total{{n=\"{n}\"}}"));
            Assert.Equal((Each / 2).ToString(CultureInfo.InvariantCulture), Value($"{name}_seconds_bucket{{n=\"{n}\",le=\"0.0005\"}}"));
            Assert.Equal(Each.ToString(CultureInfo.InvariantCulture), Value($"{name}_seconds_bucket{{n=\"{n}\",le=\"+Inf\"}}"));
            Assert.Equal(Each.ToString(CultureInfo.InvariantCulture), Value($"{name}_seconds_count{{n=\"{n}\"}}"));
            Assert.Equal(Each / 2 * 0.0023, double.Parse(Value($"{name}_seconds_sum{{n=\"{n}\"}}"), CultureInfo.InvariantCulture), 1e-6);
        }
        const int All = Threads * PerThread;
        Assert.Equal(All.ToString(CultureInfo.InvariantCulture), Value($"{name}_total{{n=\"hot\"}}"));
        Assert.Equal(All.ToString(CultureInfo.InvariantCulture), Value($"{name}_seconds_count{{n=\"hot\"}}"));
        Assert.Equal(All * 0.0003, double.Parse(Value($"{name}_seconds_sum{{n=\"hot\"}}"), CultureInfo.InvariantCulture), 1e-6);
    }
}
