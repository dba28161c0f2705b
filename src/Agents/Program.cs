using Reimage.Agents;
using Reimage.Agents.Protocol;
using Reimage.Agents.Drivers;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSystemd();
builder.Services.AddWindowsService(o => o.ServiceName = "ReimageAgent");

var settings = builder.Configuration.GetSection(AgentSettings.Section).Get<AgentSettings>() ?? new AgentSettings();
if (settings.Server is null || !(settings.Server.Scheme == Uri.UriSchemeHttps || (settings.AllowInsecureHttp && settings.Server.Scheme == Uri.UriSchemeHttp)))
{
    Console.Error.WriteLine("Agent__Server must be the Reimage server's https:// address (plain http only with Agent__AllowInsecureHttp=true, for loopback tests).");
    return ExitCodes.BadConfiguration;
}

builder.Services.AddSingleton(settings);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddHttpClient(AgentService.HttpClientName, c =>
{
    c.BaseAddress = new Uri(settings.Server.ToString().TrimEnd('/') + "/");
    c.Timeout = settings.LongPoll + TimeSpan.FromSeconds(30);
});
builder.Services.AddSingleton(new SiteAgentOptions
{
    MaxInFlight = settings.MaxInFlight,
    // On a real site imaging completes by phone-home from the task sequence; the simulated fleet does it itself.
    DeferredKinds = settings.Driver == "simulated" ? new HashSet<string>() : new HashSet<string> { "await-imaging" },
});
builder.AddAgentDrivers(settings);
builder.Services.AddHostedService<AgentService>();

await builder.Build().RunAsync();
return Environment.ExitCode;
