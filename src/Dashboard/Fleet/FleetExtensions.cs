using Hangfire;
using Hangfire.Dashboard;
using Reimage.Dashboard.Infrastructure;
using Reimage.Orchestrator.Import;

namespace Reimage.Dashboard.Fleet;

public static class FleetExtensions
{
    public static WebApplicationBuilder AddFleet(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<FleetStatus>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FleetStatus>());
        builder.Services.AddSingleton<FleetQuery>();
        builder.Services.AddSingleton<Waves.WaveQuery>();
        return builder;
    }

    /// <summary>
    /// The Hangfire Dashboard at <c>/hangfire</c>, behind the Lead policy; Hangfire's own filter additionally
    /// insists on a local request until sign-in lands.
    /// </summary>
    public static WebApplication MapJobsDashboard(this WebApplication app)
    {
        app.MapHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new LocalRequestsOnlyAuthorizationFilter()],
            DisplayStorageConnectionString = false,
            DashboardTitle = "Reimage jobs",
        }).RequireAuthorization(Policies.Lead);
        return app;
    }
}
