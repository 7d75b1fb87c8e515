namespace CloudProviders.Http;

/// <summary>
/// <c>GET /openapi/v1.json</c>: the API description, generated at build time (docs/openapi/v1.json)
/// and carried in the executable, so that serving it costs no generator.
/// </summary>
internal static class OpenApiEndpoint
{
    public const string Path = "/openapi/v1.json";

    public static IEndpointRouteBuilder MapOpenApiDocument(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Path, () => Document.Value)
            .ExcludeFromDescription();
        return routes;
    }

    /// <summary>Read once, at the first request for it.</summary>
    private static readonly Lazy<JsonBytesReply> Document = new(() =>
    {
        using var stream = typeof(OpenApiEndpoint).Assembly.GetManifestResourceStream("openapi/v1.json")
            ?? throw new InvalidOperationException("The API description is not embedded in this build.");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return new JsonBytesReply(bytes);
    });
}
