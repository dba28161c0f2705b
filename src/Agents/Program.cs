// The site agent's worker is not in this branch yet; the host builds and runs empty until it lands.
var builder = Host.CreateApplicationBuilder(args);

var host = builder.Build();
host.Run();
