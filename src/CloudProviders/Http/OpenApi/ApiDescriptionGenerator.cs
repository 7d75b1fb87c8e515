namespace CloudProviders.Http;

/// <summary>
/// The API description's generator as a part of the build: only the build that writes
/// docs/openapi/v1.json (<c>-p:OpenApiGenerateDocuments=true</c>) carries it, and that build runs
/// the host only far enough to read its routes. Every build serves the committed document. This
/// file is the part's one edge.
/// </summary>
internal static class ApiDescriptionGenerator
{
    /// <summary>Whether this build carries the part.</summary>
    public static bool Included =>
#if OPENAPI_GENERATOR
        true;
#else
        false;
#endif

    public static IServiceCollection AddApiDescriptionGenerator(this IServiceCollection services)
    {
#if OPENAPI_GENERATOR
        services.AddApiDescription();
#endif
        return services;
    }
}
