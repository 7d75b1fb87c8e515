namespace CloudProviders.Http;

/// <summary>Whether the service is shutting down: readiness turns 503 the moment SIGTERM arrives.</summary>
internal sealed class Readiness
{
    private volatile bool _draining;

    public bool Draining => _draining;

    public void StartDraining() => _draining = true;
}
