namespace CloudProviders.Tests.Support;

/// <summary>A clock the test moves by hand; it starts at the real time, in whole seconds.</summary>
internal sealed class TestClock : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
