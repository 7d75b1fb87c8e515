using CloudProviders.Cli;

return await CommandLine.RunAsync(args);
