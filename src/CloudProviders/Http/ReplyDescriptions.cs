namespace CloudProviders.Http;

/// <summary>What a route declares it may answer, for the API description (docs/openapi/v1.json).</summary>
internal static class ReplyDescriptions
{
    /// <summary>Declares the error replies a route gives, each an <see cref="ErrorBody"/>.</summary>
    public static RouteHandlerBuilder ProducesErrors(this RouteHandlerBuilder route, params int[] statusCodes)
    {
        foreach (var statusCode in statusCodes)
        {
            route.Produces<ErrorBody>(statusCode, JsonBytesReply.ContentType);
        }
        return route;
    }
}
