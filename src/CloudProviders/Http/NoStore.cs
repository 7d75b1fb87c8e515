namespace CloudProviders.Http;

/// <summary>Every response carries <c>Cache-Control: no-store</c>: a credential's status is never served from a cache on the way.</summary>
internal static class NoStore
{
    public static IApplicationBuilder UseNoStore(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        Apply(context.Response);
        return next(context);
    });

    /// <summary>Sets the header; again after a response is cleared to be replaced by an error.</summary>
    public static void Apply(HttpResponse response) => response.Headers.CacheControl = "no-store";
}
