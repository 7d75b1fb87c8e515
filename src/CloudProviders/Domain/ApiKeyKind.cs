namespace CloudProviders.Domain;

/// <summary>The two API key kinds: integration keys (<c>sk-</c>) read, device keys (<c>dk-</c>) read and write. A kind's name is the key's prefix.</summary>
internal enum ApiKeyKind { Sk, Dk }
