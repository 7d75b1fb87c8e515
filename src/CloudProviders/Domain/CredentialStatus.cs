namespace CloudProviders.Domain;

/// <summary>What the service may tell about a team's credential for one provider. Never the key.</summary>
internal sealed record CredentialStatus(
    Provider Provider,
    bool Active,
    bool CloudFallback,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? KeyPreview);
