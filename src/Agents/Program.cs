// The standalone site agent (enrolment, HTTPS transport and real drivers arrive with the agents issue).
// Today the agent loop and the simulated fleet run in-process inside the Dashboard for the demo.
using Reimage.Agents;

var builder = Host.CreateApplicationBuilder(args);
var host = builder.Build();
host.Services.GetRequiredService<ILogger<SiteAgent>>()
    .LogError("The standalone agent needs enrolment against a server, which is not built yet; run the Dashboard with --demo for the in-process simulated fleet.");
return 2;
