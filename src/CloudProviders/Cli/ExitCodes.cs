namespace CloudProviders.Cli;

/// <summary>
/// How the executable exits: 0 done, 1 a failure or bad input (nothing changed), 2 a malformed
/// command line; a key tested against its provider, 3 when the provider rejects it and 4 when the
/// provider could not be reached.
/// </summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int KeyRejected = 3;
    public const int ProviderUnreachable = 4;
}
