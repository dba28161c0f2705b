using Microsoft.Extensions.Options;
using Reimage.Agents;
using Reimage.Agents.Drivers;

if (args.Any(a => a is "--help" or "-h" or "-?" or "/?"))
{
    Console.Out.Write(Usage.Text);
    return 0;
}

if (args.Contains("--version"))
{
    Console.Out.WriteLine($"reimage-agent {Usage.Version}");
    return 0;
}

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSystemd();
builder.Services.AddWindowsService(o => o.ServiceName = "ReimageAgent");
builder.AddAgentService();
builder.AddAgentDrivers();

using var host = builder.Build();
try
{
    // Every section's checks at once, before the service and its drivers are built from them: one start names every bad key.
    host.Services.GetService<IStartupValidator>()?.Validate();
}
catch (Exception e) when (BadConfiguration(e) is { Count: > 0 } problems)
{
    var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Reimage.Agents");
    foreach (var problem in problems.Distinct())
    {
        logger.LogCritical("Bad configuration: {Problem}", problem);
    }

    return ExitCodes.BadConfiguration; // needs a person, not a restart: the service managers are told not to restart on it
}

await host.RunAsync();
return Environment.ExitCode;

// The check throws one OptionsValidationException, or an AggregateException of several (one per section).
static List<string> BadConfiguration(Exception e) => e switch
{
    OptionsValidationException invalid => [.. invalid.Failures],
    AggregateException several when several.InnerExceptions.All(i => i is OptionsValidationException) =>
        [.. several.InnerExceptions.Cast<OptionsValidationException>().SelectMany(i => i.Failures)],
    _ => [],
};
