namespace CloudProviders.Upstream;

/// <summary>The providers' own APIs, reached only to test a key. Nothing here runs at start: the client is made at the first test.</summary>
internal static class UpstreamServices
{
    public static IServiceCollection AddUpstream(this IServiceCollection services)
    {
        services.AddSingleton<ComfyCloud>();
        services.AddSingleton<KeyTests>();
        return services;
    }
}
