namespace CloudProviders.Cli;

/// <summary>How the executable exits: 0 done, 1 a failure or bad input (nothing changed), 2 a malformed command line.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
}
