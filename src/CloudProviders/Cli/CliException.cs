namespace CloudProviders.Cli;

/// <summary>Bad input from the operator: printed as one line, exit non-zero, nothing changed.</summary>
internal sealed class CliException(string message) : Exception(message);
