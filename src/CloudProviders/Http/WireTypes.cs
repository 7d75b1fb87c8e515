using System.Text.Json;
using System.Text.Json.Serialization;
using CloudProviders.Domain;

namespace CloudProviders.Http;

/// <summary>The credential status body: the six contract fields, never the key.</summary>
internal sealed record StatusBody(
    [property: JsonPropertyName("provider_name")] string ProviderName,
    [property: JsonPropertyName("credential_status")] string CredentialStatus,
    [property: JsonPropertyName("cloud_fallback")] bool CloudFallback,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("updated_at")] string UpdatedAt,
    [property: JsonPropertyName("key_preview"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? KeyPreview)
{
    public static StatusBody From(CredentialStatus status) => new(
        status.Provider.Id,
        status.Active ? "active" : "revoked",
        status.Active && status.CloudFallback,
        Rfc3339.Format(status.CreatedAt),
        Rfc3339.Format(status.UpdatedAt),
        status.KeyPreview);
}

/// <summary>
/// The test route's optional body, a candidate key: read by the PUT body's reader
/// (<see cref="SetCredentialRequest"/>, whose rules it follows); declared for the API description.
/// </summary>
internal sealed record KeyTestRequest(
    [property: JsonPropertyName("api_key"), System.ComponentModel.DataAnnotations.StringLength(ProviderKey.MaxLength, MinimumLength = 1)] string ApiKey);

/// <summary>A key's test against its provider: the outcome in one word, never the key.</summary>
internal sealed record KeyTestBody(
    [property: JsonPropertyName("provider_name")] string ProviderName,
    [property: JsonPropertyName("result")] string Result,
    [property: JsonPropertyName("upstream_status"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? UpstreamStatus,
    [property: JsonPropertyName("checked_at")] string CheckedAt)
{
    public static KeyTestBody From(Provider provider, KeyCheck check) =>
        new(provider.Id, check.Result.Name(), check.UpstreamStatus, Rfc3339.Format(check.CheckedAt));
}

/// <summary>Every error body: plain English, no secrets.</summary>
internal sealed record ErrorBody([property: JsonPropertyName("error_message")] string ErrorMessage);

internal sealed record HealthBody([property: JsonPropertyName("status")] string Status);

/// <summary>Every type that crosses the wire, source-generated so nothing needs reflection.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StatusBody))]
[JsonSerializable(typeof(KeyTestBody))]
[JsonSerializable(typeof(KeyTestRequest))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(HealthBody))]
[JsonSerializable(typeof(SetCredentialRequest))]
internal sealed partial class WireJsonContext : JsonSerializerContext;
