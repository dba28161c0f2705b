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
        builder.Services.AddSingleton<FleetExport>();
        builder.Services.AddSingleton<MachineDetailQuery>();
        builder.Services.AddSingleton<SavedFilters>();
        builder.Services.AddSingleton<FleetBulk>();
        return builder;
    }

    /// <summary><c>GET /api/machines/export</c>: the grid's filter as CSV, for leads.</summary>
    public static WebApplication MapFleetApi(this WebApplication app)
    {
        app.MapGet("/api/machines/export", async (string? site, string? state, string? text, FleetExport export, TimeProvider clock, HttpContext http, CancellationToken ct) =>
        {
            var (filter, error) = FleetExport.Parse(site, state, text);
            if (filter is null)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["filter"] = [error!] });
            }

            http.Response.ContentType = "text/csv; charset=utf-8";
            http.Response.Headers.ContentDisposition = $"attachment; filename=\"fleet-{clock.GetUtcNow():yyyyMMdd-HHmm}.csv\"";
            await using var writer = new StreamWriter(http.Response.Body, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            await export.WriteAsync(filter, writer, ct);
            return Results.Empty;
        }).RequireAuthorization(Policies.Lead);
        return app;
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
