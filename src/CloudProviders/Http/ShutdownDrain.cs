namespace CloudProviders.Http;

/// <summary>The flag SIGTERM raises: from then on readiness answers 503, while requests are still served.</summary>
internal sealed class ShutdownDrain
{
    private volatile bool _draining;

    public bool Draining => _draining;

    public void Start() => _draining = true;
}
