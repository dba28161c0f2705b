using Hangfire;
using Hangfire.Dashboard;
using Npgsql;

namespace Reimage.Dashboard.Infrastructure;

public static class OpsEndpoints
{
    /// <summary><c>/healthz</c>: 200 when the database answers, 503 otherwise (with the private cluster's restarts). <c>/metrics</c>: Prometheus text.</summary>
    public static WebApplication MapOps(this WebApplication app)
    {
        app.MapGet("/healthz", async (NpgsqlDataSource db, IServiceProvider services, CancellationToken ct) =>
        {
            // With the private cluster: whether it had to be restarted, or is being restarted now.
            var status = services.GetService<Orchestrator.Infrastructure.PrivatePostgresStatus>();
            var cluster = status?.Describe();
            if (status?.IsDown == true)
            {
                // Known to be down: say so at once rather than wait for a connection that cannot succeed.
                return Results.Text($"database unreachable: {cluster}", statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(3));
                await using var command = db.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(timeout.Token);
                return Results.Text(cluster is null ? "ok" : $"ok ({cluster})");
            }
            catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException or System.Net.Sockets.SocketException)
            {
                return Results.Text($"database unreachable: {e.GetType().Name}{(cluster is null ? "" : $"; {cluster}")}", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }).AllowAnonymous().WithName("Health");

        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
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
