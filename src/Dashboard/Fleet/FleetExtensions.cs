using Hangfire;
using Hangfire.Dashboard;
using Reimage.Dashboard.Infrastructure;
using Reimage.Orchestrator.Import;

namespace Reimage.Dashboard.Fleet;

public static class FleetExtensions
{
    public static WebApplicationBuilder AddFleet(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<Live.LiveUpdates>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Live.LiveUpdates>());
        builder.Services.AddSingleton<FleetStatus>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FleetStatus>());
        builder.Services.AddSingleton<FleetQuery>();
        builder.Services.AddSingleton<Waves.WaveQuery>();
        return builder;
    }

    /// <summary>
    /// The Hangfire Dashboard at <c>/hangfire</c>, for leads and admins only: the endpoint's policy, and Hangfire's own
    /// filter checking the same roles (its dashboard would otherwise let anyone local in).
    /// </summary>
    public static WebApplication MapJobsDashboard(this WebApplication app)
    {
        app.MapHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new LeadsOnly()],
            DisplayStorageConnectionString = false,
            DashboardTitle = "Reimage jobs",
        }).RequireAuthorization(Policies.Lead);
        return app;
    }

    private sealed class LeadsOnly : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context)
        {
            var user = context.GetHttpContext().User;
            return user.IsInRole(Accounts.Roles.Lead) || user.IsInRole(Accounts.Roles.Admin);
        }
    }
}
