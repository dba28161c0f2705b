using Microsoft.Extensions.Options;
using Reimage.Agents;
using Reimage.Agents.Drivers;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSystemd();
builder.Services.AddWindowsService(o => o.ServiceName = "ReimageAgent");
builder.AddAgentService();
builder.AddAgentDrivers();

try
{
    await builder.Build().RunAsync();
}
catch (Exception e) when (BadConfiguration(e) is { Count: > 0 } problems)
{
    // Needs a person, not a restart: the service managers are told not to restart on this code.
    foreach (var problem in problems)
    {
        Console.Error.WriteLine(problem);
    }

    return ExitCodes.BadConfiguration;
}

return Environment.ExitCode;

// The start-up check throws one OptionsValidationException, or an AggregateException of several (one per section).
static List<string> BadConfiguration(Exception e) => e switch
{
    OptionsValidationException invalid => [.. invalid.Failures],
    AggregateException several when several.InnerExceptions.All(i => i is OptionsValidationException) =>
        [.. several.InnerExceptions.Cast<OptionsValidationException>().SelectMany(i => i.Failures)],
    _ => [],
};
