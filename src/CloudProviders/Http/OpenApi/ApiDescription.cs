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
                    operation.Parameters ??= [];
                    operation.Parameters.Add(new OpenApiParameter
                    {
                        Name = "verify",
                        In = ParameterLocation.Query,
                        Required = false,
                        Description = "true: test the key against ComfyUI Cloud first, and set it only if ComfyUI Cloud accepts it (rejected: 422, unreachable: 503; nothing changes either way). Default false.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(false) },
                    });
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
                if (context.Description.HttpMethod == HttpMethods.Post)
                {
                    // The optional body the handler reads by hand: a candidate key, which is tested and not stored.
                    var body = await context.GetOrCreateSchemaAsync(typeof(KeyTestRequest), null, cancellation);
                    context.Document!.AddComponent(nameof(KeyTestRequest), body);
                    operation.RequestBody = new OpenApiRequestBody
                    {
                        Required = false,
                        Description = "Absent: the stored key is tested. Present: this key is tested instead, and nothing of it is stored.",
                        Content = new Dictionary<string, OpenApiMediaType>
                        {
                            [JsonBytesReply.ContentType] = new() { Schema = new OpenApiSchemaReference(nameof(KeyTestRequest), context.Document) },
                        },
                    };
                }
                DescribeReplies(operation, path, credential, context.Description.HttpMethod);
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
                else if (type == typeof(KeyTestRequest))
                {
                    schema.Description = "A candidate key to test before saving it: the PUT body's rules, and nothing of it is stored.";
                    schema.Required = new HashSet<string> { "api_key" };
                    Property(schema, "api_key", "The ComfyUI Cloud API key to test.", "comfyui-1a860b9fb316bf93e5d2b820dc41563bcdf29f37f6f4e9d7c922406e6841b644");
                }
                else if (type == typeof(KeyTestBody))
                {
                    DescribeKeyTest(schema);
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
    private static void DescribeReplies(OpenApiOperation operation, string path, bool credential, string? method)
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
                "200" when credential && path.EndsWith("/test", StringComparison.Ordinal) => "The test's outcome: valid, rejected (the provider refuses the key) or unreachable.",
                "200" when credential => "The team's credential status.",
                "400" => "The request is malformed: the X-Team-ID header, or the body.",
                "401" => "Not authenticated: no bearer token, or one that is not valid.",
                "403" => "The caller may not do this for this team (or the team does not exist).",
                "404" when path == "metrics" => "Metrics are turned off (Metrics:Enabled=false).",
                "404" when path.EndsWith("/test", StringComparison.Ordinal) => "No key to test: no credential is configured for this team, or it is revoked.",
                "404" => "No credential is configured for this team.",
                "405" => "This method is not allowed on this path.",
                "413" => "The body is too large.",
                "415" => "The body is not JSON.",
                "422" => "With verify=true: ComfyUI Cloud rejects the key; nothing was changed.",
                "429" => "This team tested a key less than 10 seconds ago (on this instance); try again after Retry-After.",
                "500" => "An unexpected fault; the body never carries its details.",
                "503" when method == HttpMethods.Put => "Storage is unavailable, this is a read-only replica, or, with verify=true, ComfyUI Cloud could not be reached; nothing was changed. Try again after Retry-After.",
                "503" when method is "POST" or "DELETE" => "Storage is unavailable, or this is a read-only replica; try again after Retry-After.",
                "503" => "Storage is unavailable; try again after Retry-After.",
                _ => response.Description,
            };
            var header = status switch
            {
                "401" => ("WWW-Authenticate", "Bearer", "The authentication scheme to use."),
                "405" => ("Allow", path.EndsWith("/test", StringComparison.Ordinal) ? "POST" : "GET, PUT, DELETE", "The methods this path takes."),
                "429" => ("Retry-After", "10", "Seconds to wait before the team may test a key again."),
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

    private static void DescribeKeyTest(OpenApiSchema schema)
    {
        schema.Description = "A key's test against ComfyUI Cloud (GET /api/user with the key in X-API-Key). Never the key.";
        schema.Required = new HashSet<string> { "provider_name", "result", "checked_at" };
        Property(schema, "provider_name", "Cloud provider identifier.", "comfy_cloud");
        var result = Property(schema, "result", "valid: a 2xx. rejected: 401 or 403, the provider refuses the key. unreachable: a timeout, a network or TLS failure, 429, a 5xx or anything else; it never counts against the key.", "valid");
        result.Enum = [JsonValue.Create("valid"), JsonValue.Create("rejected"), JsonValue.Create("unreachable")];
        var upstream = Property(schema, "upstream_status", "The provider's HTTP status, where there was one; left out otherwise.", 200);
        upstream.Type = JsonSchemaType.Integer;
        upstream.Minimum = "100";
        upstream.Maximum = "599";
        Property(schema, "checked_at", "When the provider was asked.", "2026-12-07T10:00:00Z").Format = "date-time";
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
