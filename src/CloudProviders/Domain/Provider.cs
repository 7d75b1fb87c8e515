namespace CloudProviders.Domain;

/// <summary>A cloud provider whose credential a team can configure.</summary>
/// <param name="Slug">How paths and the command line name it (<c>comfy-cloud</c>).</param>
/// <param name="Id">How the contract and the database name it (<c>comfy_cloud</c>).</param>
internal sealed record Provider(string Slug, string Id)
{
    public static readonly Provider ComfyCloud = new("comfy-cloud", "comfy_cloud");

    public static readonly IReadOnlyList<Provider> All = [ComfyCloud];

    public static Provider? FromSlug(string slug) =>
        All.FirstOrDefault(p => string.Equals(p.Slug, slug, StringComparison.Ordinal));
}
