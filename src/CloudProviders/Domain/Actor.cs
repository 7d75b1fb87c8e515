namespace CloudProviders.Domain;

/// <summary>How a caller proved who it is.</summary>
internal enum ActorKind { Jwt, Sk, Dk, Cli }

/// <summary>Who acted on a credential, as the audit trail, the request log and the metrics name them.</summary>
/// <param name="Id">The JWT <c>sub</c>, the API key's 12-character prefix, or <c>cli</c>.</param>
internal sealed record Actor(ActorKind Kind, string Id)
{
    public static readonly Actor Cli = new(ActorKind.Cli, "cli");
}
