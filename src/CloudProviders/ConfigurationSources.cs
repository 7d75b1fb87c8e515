namespace CloudProviders;

/// <summary>
/// Where the service's configuration comes from, the same for <c>serve</c> and every admin command:
/// <c>appsettings.json</c> in the content root, <c>ASPNETCORE_</c> variables, all environment
/// variables, then <c>--Section:Key=value</c> arguments, each over the one before.
/// </summary>
internal static class ConfigurationSources
{
    public static IConfigurationBuilder AddServiceSources(this IConfigurationBuilder builder, string contentRoot, string[] args)
    {
        var file = Path.Combine(contentRoot, "appsettings.json");
        if (Directory.Exists(file))
        {
            throw new ConfigurationException($"{file} is a folder; appsettings.json must be a JSON file.");
        }
        return builder
            .AddJsonFile(file, optional: true, reloadOnChange: false)
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddEnvironmentVariables()
            .AddCommandLine(args);
    }

    /// <summary>Builds a configuration, saying in one line what is wrong with a malformed appsettings.json.</summary>
    public static IConfigurationRoot Build(string contentRoot, string[] args)
    {
        try
        {
            return new ConfigurationBuilder().AddServiceSources(contentRoot, args).Build();
        }
        catch (InvalidDataException)
        {
            throw MalformedFile(contentRoot);
        }
    }

    public static ConfigurationException MalformedFile(string contentRoot) =>
        new($"{Path.Combine(contentRoot, "appsettings.json")} is not valid JSON; fix it or remove it.");
}
