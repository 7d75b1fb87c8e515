using System.Diagnostics;

namespace CloudProviders.Tests.Support;

/// <summary>A clock the test moves by hand: it starts at the real time, in whole seconds, and stands still.</summary>
internal sealed class TestClock : TimeProvider
{
    private readonly DateTimeOffset _start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private TimeSpan _advanced;

    public override DateTimeOffset GetUtcNow() => _start + _advanced;

    public override long GetTimestamp() => _startTimestamp + (long)(_advanced.TotalSeconds * TimestampFrequency);

    public void Advance(TimeSpan by) => _advanced += by;
}
