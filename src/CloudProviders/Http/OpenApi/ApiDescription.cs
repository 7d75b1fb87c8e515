using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace CloudProviders.Http;

/// <summary>
/// What the generated API description says beyond the routes' own metadata: the bearer scheme,
/// the team header, the headers that go with some statuses, and the contract's fields with their
/// formats, rules and the public API page's examples. Compiled only into the build that generates
/// docs/openapi/v1.json (-p:OpenApiGenerateDocuments=true); the service serves that file.
/// </summary>
internal static class ApiDescription
{
    private const string Bearer = "bearer";

    public static IServiceCollection AddApiDescription(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, WireJsonContext.Default));
        return services.AddOpenApi("v1", options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "CloudProviders",
                    Version = typeof(ApiDescription).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
                    Description = "A team's ComfyUI Cloud credential: its status (never the key), and setting and revoking the key.",
                };
                document.Servers = [];
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "A user session JWT (with X-Team-ID), or an integration key (sk-...) or device key (dk-...), whose team is its own.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(async (operation, context, cancellation) =>
            {
                var path = context.Description.RelativePath ?? "";
                var credential = path.StartsWith("api/", StringComparison.Ordinal);
                if (credential)
                {
                    DescribeCredentialOperation(operation, context.Document!);
                }
                if (context.Description.HttpMethod == HttpMethods.Put)
                {
                    // The body the handler reads by hand (Http/SetCredentialRequest.cs).
                    var body = await context.GetOrCreateSchemaAsync(typeof(SetCredentialRequest), null, cancellation);
                    context.Document!.AddComponent(nameof(SetCredentialRequest), body);
                    operation.RequestBody = new OpenApiRequestBody
                    {
                        Required = true,
                        Content = new Dictionary<string, OpenApiMediaType>
                        {
                            [JsonBytesReply.ContentType] = new() { Schema = new OpenApiSchemaReference(nameof(SetCredentialRequest), context.Document) },
                        },
                    };
                }
                DescribeReplies(operation, path, credential);
            });
            options.AddSchemaTransformer((schema, context, _) =>
            {
                var type = context.JsonTypeInfo.Type;
                if (type == typeof(StatusBody))
                {
                    DescribeStatus(schema);
                }
                else if (type == typeof(SetCredentialRequest))
                {
                    DescribeSetRequest(schema);
                }
                else if (type == typeof(ErrorBody))
                {
                    schema.Description = "Every error: plain English, never a secret.";
                    schema.Required = new HashSet<string> { "error_message" };
                    Property(schema, "error_message", "What is wrong, and what to do.", "Authentication required: send a valid bearer token.");
                }
                else if (type == typeof(HealthBody))
                {
                    schema.Required = new HashSet<string> { "status" };
                    Property(schema, "status", "ok for liveness, ready for readiness.", "ok");
                }
                return Task.CompletedTask;
            });
        });
    }

    private static void DescribeCredentialOperation(OpenApiOperation operation, OpenApiDocument document)
    {
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, document)] = [] }];
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = CallerResolution.TeamHeader,
            In = ParameterLocation.Header,
            Required = false,
            Description = "The team to act for. JWT callers must send it (missing or malformed: 400); sk- and dk- callers may omit it, and any value they send is ignored.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" },
            Example = JsonValue.Create("019abc12-4567-7890-abcd-ef1234567891"),
        });
    }

    /// <summary>
    /// What each status means here, and the headers that go with it: a challenge with 401, the
    /// methods with 405, when to retry with 503. Every operation also lists the two refusals the
    /// server gives before any route is chosen, without a body.
    /// </summary>
    private static void DescribeReplies(OpenApiOperation operation, string path, bool credential)
    {
        var responses = new SortedDictionary<string, IOpenApiResponse>(operation.Responses ?? [], StringComparer.Ordinal)
        {
            ["414"] = new OpenApiResponse { Description = "The request line is too long: refused by the server before any route, without a body." },
            ["431"] = new OpenApiResponse { Description = "The request headers are too large: refused by the server before any route, without a body." },
        };
        operation.Responses = [];
        foreach (var (status, reply) in responses)
        {
            operation.Responses[status] = reply;
            if (reply is not OpenApiResponse response)
            {
                continue;
            }
            response.Description = status switch
            {
                "200" when credential => "The team's credential status.",
                "400" => "The request is malformed: the X-Team-ID header, or the body.",
                "401" => "Not authenticated: no bearer token, or one that is not valid.",
                "403" => "The caller may not do this for this team (or the team does not exist).",
                "404" when path == "metrics" => "Metrics are turned off (Metrics:Enabled=false).",
                "404" => "No credential is configured for this team.",
                "405" => "This method is not allowed on this path.",
                "413" => "The body is too large.",
                "415" => "The body is not JSON.",
                "500" => "An unexpected fault; the body never carries its details.",
                "503" => "Storage is unavailable (or this is a read-only replica, for a change); try again shortly.",
                _ => response.Description,
            };
            var header = status switch
            {
                "401" => ("WWW-Authenticate", "Bearer", "The authentication scheme to use."),
                "405" => ("Allow", "GET, PUT, DELETE", "The methods this path takes."),
                "503" => ("Retry-After", "1", "Seconds to wait before trying again."),
                _ => default,
            };
            if (header.Item1 is { } name)
            {
                response.Headers ??= new Dictionary<string, IOpenApiHeader>();
                response.Headers[name] = new OpenApiHeader
                {
                    Description = header.Item3,
                    Required = true,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    Example = JsonValue.Create(header.Item2),
                };
            }
        }
    }

    private static void DescribeStatus(OpenApiSchema schema)
    {
        schema.Description = "Cloud provider credential status (API key is masked).";
        schema.Required = new HashSet<string> { "provider_name", "credential_status", "cloud_fallback", "created_at", "updated_at" };
        Property(schema, "provider_name", "Cloud provider identifier.", "comfy_cloud");
        var status = Property(schema, "credential_status", "Current status of the credential.", "active");
        status.Enum = [JsonValue.Create("active"), JsonValue.Create("revoked")];
        Property(schema, "cloud_fallback", "Whether automatic cloud fallback is enabled.", false);
        Property(schema, "created_at", "Timestamp when the credential was first configured.", "2025-06-01T12:00:00Z").Format = "date-time";
        Property(schema, "updated_at", "Timestamp when the credential was last updated.", "2025-06-15T08:30:00Z").Format = "date-time";
        var preview = Property(schema, "key_preview", "Masked preview of the API key (first 8 and last 4 characters).", "cfy_xxxx...xxxx");
        // Left out of the body, never null: the generator reads the nullable property as nullable.
        preview.Type = JsonSchemaType.String;
    }

    private static void DescribeSetRequest(OpenApiSchema schema)
    {
        schema.Description = "The key to set, replacing any other, and whether cloud fallback is on.";
        schema.Required = new HashSet<string> { "api_key" };
        Property(schema, "api_key", "The ComfyUI Cloud API key. Never shown again: only its preview.", "comfyui-1a860b9fb316bf93e5d2b820dc41563bcdf29f37f6f4e9d7c922406e6841b644");
        Property(schema, "cloud_fallback", "Fall back to ComfyUI Cloud when no local agent is available. Needs an active key.", false);
    }

    private static OpenApiSchema Property(OpenApiSchema schema, string name, string description, JsonNode example)
    {
        var property = (OpenApiSchema)schema.Properties![name];
        property.Description = description;
        property.Examples = [example];
        return property;
    }
}
