using System.Text.Json;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Unit;

/// <summary>
/// The committed API description (docs/openapi/v1.json) says what the public API page says: the
/// status's fields, types, required set, enum, formats and examples, the team header, the bearer
/// scheme, the PUT body's rules, and the error shape and headers of every status. The test command
/// checks separately that the document is the generated one and that every response matches it.
/// </summary>
public sealed class ApiDescriptionTests
{
    private const string CredentialPath = "/api/v1/cloud-providers/comfy-cloud";
    private const string TestPath = CredentialPath + "/test";

    private static readonly JsonElement Document =
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Repository.Root, "docs", "openapi", "v1.json"))).RootElement;

    private static JsonElement Schema(string name) => Document.GetProperty("components").GetProperty("schemas").GetProperty(name);

    private static JsonElement Operation(string path, string method) => Document.GetProperty("paths").GetProperty(path).GetProperty(method);

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(item => item.GetString()!)];

    [Fact]
    public void The_document_is_OpenAPI_3_1_and_describes_the_whole_surface()
    {
        Assert.StartsWith("3.1", Document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = Document.GetProperty("paths").EnumerateObject().ToDictionary(path => path.Name, path => path.Value.EnumerateObject().Select(op => op.Name).Order().ToArray());
        Assert.Equal(["/api/v1/cloud-providers/comfy-cloud", "/api/v1/cloud-providers/comfy-cloud/test", "/healthz", "/metrics", "/readyz"], paths.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["delete", "get", "put"], paths[CredentialPath]);
        Assert.Equal(["post"], paths[TestPath]);
        Assert.Equal(["get"], paths["/healthz"]);
    }

    [Fact]
    public void The_status_schema_has_the_public_pages_six_fields_types_required_set_and_examples()
    {
        var status = Schema("StatusBody");
        var properties = status.GetProperty("properties");
        // The public API page's example body, field by field: (type, format, example).
        var page = new Dictionary<string, (string Type, string? Format, object Example)>
        {
            ["provider_name"] = ("string", null, "comfy_cloud"),
            ["credential_status"] = ("string", null, "active"),
            ["cloud_fallback"] = ("boolean", null, false),
            ["created_at"] = ("string", "date-time", "2025-06-01T12:00:00Z"),
            ["updated_at"] = ("string", "date-time", "2025-06-15T08:30:00Z"),
            ["key_preview"] = ("string", null, "cfy_xxxx...xxxx"),
        };
        Assert.Equal(page.Keys.Order(), properties.EnumerateObject().Select(p => p.Name).Order());
        foreach (var (name, (type, format, example)) in page)
        {
            var property = properties.GetProperty(name);
            Assert.Equal(type, property.GetProperty("type").GetString());
            Assert.Equal(format, property.TryGetProperty("format", out var f) ? f.GetString() : null);
            var shown = property.GetProperty("examples")[0];
            Assert.Equal(example, example is bool ? shown.GetBoolean() : shown.GetString());
        }
        Assert.Equal(["cloud_fallback", "created_at", "credential_status", "provider_name", "updated_at"], Strings(status.GetProperty("required")).Order());
        Assert.Equal(["active", "revoked"], Strings(properties.GetProperty("credential_status").GetProperty("enum")));
    }

    [Fact]
    public void The_put_body_takes_a_key_of_1_to_512_characters_and_fallback_off_by_default()
    {
        var body = Operation(CredentialPath, "put").GetProperty("requestBody");
        Assert.True(body.GetProperty("required").GetBoolean());
        Assert.Equal("#/components/schemas/SetCredentialRequest", body.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        var request = Schema("SetCredentialRequest");
        Assert.Equal(["api_key"], Strings(request.GetProperty("required")));
        var key = request.GetProperty("properties").GetProperty("api_key");
        Assert.Equal(1, key.GetProperty("minLength").GetInt32());
        Assert.Equal(512, key.GetProperty("maxLength").GetInt32());
        Assert.False(request.GetProperty("properties").GetProperty("cloud_fallback").GetProperty("default").GetBoolean());
    }

    [Theory]
    [InlineData("get")]
    [InlineData("put")]
    [InlineData("delete")]
    public void Every_credential_operation_takes_a_bearer_token_and_the_team_header_and_describes_each_error(string method)
    {
        var operation = Operation(CredentialPath, method);
        Assert.True(operation.GetProperty("security")[0].TryGetProperty("bearer", out _));
        var header = Assert.Single(operation.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "X-Team-ID");
        Assert.Equal("header", header.GetProperty("in").GetString());
        Assert.Equal("uuid", header.GetProperty("schema").GetProperty("format").GetString());

        var responses = operation.GetProperty("responses");
        string[] errors = method == "put" ? ["400", "401", "403", "404", "405", "413", "415", "422", "429", "500", "503"] : ["400", "401", "403", "404", "405", "500", "503"];
        // 414 and 431 come from the server before any route, without a body.
        Assert.Equal(new[] { "200", "414", "431" }.Concat(errors).Order(StringComparer.Ordinal), responses.EnumerateObject().Select(r => r.Name));
        Assert.Equal("#/components/schemas/StatusBody", responses.GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        foreach (var status in errors)
        {
            Assert.Equal("#/components/schemas/ErrorBody", responses.GetProperty(status).GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        }
        Assert.True(responses.GetProperty("401").GetProperty("headers").TryGetProperty("WWW-Authenticate", out _));
        Assert.True(responses.GetProperty("405").GetProperty("headers").TryGetProperty("Allow", out _));
        Assert.True(responses.GetProperty("503").GetProperty("headers").TryGetProperty("Retry-After", out _));
        Assert.Equal(["error_message"], Strings(Schema("ErrorBody").GetProperty("required")));
    }

    [Fact]
    public void The_test_operation_takes_an_optional_candidate_key_and_answers_with_the_outcome()
    {
        var operation = Operation(TestPath, "post");
        Assert.True(operation.GetProperty("security")[0].TryGetProperty("bearer", out _));
        var body = operation.GetProperty("requestBody");
        Assert.False(body.TryGetProperty("required", out var required) && required.GetBoolean());
        var candidate = Schema("KeyTestRequest");
        Assert.Equal(["api_key"], candidate.GetProperty("properties").EnumerateObject().Select(p => p.Name));
        Assert.Equal(512, candidate.GetProperty("properties").GetProperty("api_key").GetProperty("maxLength").GetInt32());

        var responses = operation.GetProperty("responses");
        Assert.Equal(["200", "400", "401", "403", "404", "405", "413", "414", "415", "429", "431", "500", "503"], responses.EnumerateObject().Select(r => r.Name));
        Assert.Equal("#/components/schemas/KeyTestBody", responses.GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.True(responses.GetProperty("429").GetProperty("headers").TryGetProperty("Retry-After", out _));
        var outcome = Schema("KeyTestBody");
        Assert.Equal(["checked_at", "provider_name", "result"], Strings(outcome.GetProperty("required")).Order(StringComparer.Ordinal));
        Assert.Equal(["valid", "rejected", "unreachable"], Strings(outcome.GetProperty("properties").GetProperty("result").GetProperty("enum")));
    }

    [Fact]
    public void A_put_may_ask_for_the_key_to_be_verified_first()
    {
        var verify = Assert.Single(Operation(CredentialPath, "put").GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "verify");
        Assert.Equal(("query", "boolean"), (verify.GetProperty("in").GetString(), verify.GetProperty("schema").GetProperty("type").GetString()));
    }

    [Fact]
    public void The_bearer_scheme_is_http_bearer()
    {
        var scheme = Document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
    }
}
