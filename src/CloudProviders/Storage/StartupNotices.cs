namespace CloudProviders.Storage;

/// <summary>Where the process tells an operator what start-up did or found: the log for <c>serve</c>, stderr for the admin commands.</summary>
/// <param name="Notice">Something done on the operator's behalf, such as generating a development key.</param>
/// <param name="Warning">Something unsafe but usable, such as a key file others can read.</param>
internal sealed record StartupNotices(Action<string> Notice, Action<string> Warning);
