namespace CloudProviders.Storage;

/// <summary>An engine the build carries: the <c>Database:Engine</c> it serves, and how it opens its database (connecting to nothing yet).</summary>
internal sealed record StorageEngine(DatabaseEngine Kind, Func<Settings, StartupNotices, Database> Open);
