namespace CloudProviders.Tests.Support;

/// <summary>Runs a system tool a fault test needs (chattr, mount); false when it fails or is absent.</summary>
internal static class ExternalCommand
{
    public static bool Succeeds(string command, params string[] arguments)
    {
        try
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(command, arguments)
            {
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
