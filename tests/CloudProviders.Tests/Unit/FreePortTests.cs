using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Unit;

/// <summary>The loopback ports the tests' servers are given.</summary>
public sealed class FreePortTests
{
    [Fact]
    public void A_run_never_hands_out_the_same_port_twice()
    {
        // 500 draws from the 12,768 ports below the ephemeral range: drawn at random alone, two
        // would match with near certainty (as forty servers started at once sometimes did).
        var ports = Enumerable.Range(0, 500).Select(_ => NativeBinary.FreePort()).ToList();
        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, port => Assert.InRange(port, 20_000, 32_767));
    }
}
