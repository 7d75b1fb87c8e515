using CloudProviders.Domain;
using CloudProviders.Storage;

namespace CloudProviders.Upstream;

/// <summary>Why a team has no stored key to test.</summary>
internal enum NoKeyToTest { None, NoCredential, Revoked }

/// <summary>
/// Tests a key against its provider: the team's stored key (recorded in the audit trail with its
/// outcome), or a candidate key, which leaves nothing behind but the count of tests. The HTTP API
/// and the command line both test through here.
/// </summary>
internal sealed class KeyTests(ComfyCloud comfyCloud, CredentialStore credentials)
{
    /// <returns>The provider's answer; or none, and why, when the team has no key to test.</returns>
    public async Task<(KeyCheck? Check, NoKeyToTest Missing)> TestStoredAsync(Guid teamId, Provider provider, Actor actor, CancellationToken cancellation)
    {
        if (credentials.Find(teamId, provider) is not { } status)
        {
            return (null, NoKeyToTest.NoCredential);
        }
        // A revoked credential holds no key: its ciphertext was destroyed.
        if (!status.Active || credentials.ReadKey(teamId, provider) is not { } key)
        {
            return (null, NoKeyToTest.Revoked);
        }
        var check = await comfyCloud.CheckAsync(key, cancellation);
        credentials.RecordTest(teamId, provider, actor, status.KeyPreview, check);
        return (check, NoKeyToTest.None);
    }

    /// <summary>Tests a key that is not stored ("test before saving"): nothing of it is kept.</summary>
    public Task<KeyCheck> TestCandidateAsync(string key, CancellationToken cancellation) => comfyCloud.CheckAsync(key, cancellation);

    /// <summary>What an operator or a caller is told when there is no key to test.</summary>
    public static string Describe(NoKeyToTest missing) => missing == NoKeyToTest.Revoked
        ? "The team's ComfyUI Cloud credential is revoked, and a revoked credential holds no key to test: set a key first."
        : "No ComfyUI Cloud credential is configured for this team: set a key first, or test one before saving it with {\"api_key\": \"...\"}.";
}
