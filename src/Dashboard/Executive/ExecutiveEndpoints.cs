using Reimage.Dashboard.Infrastructure;

namespace Reimage.Dashboard.Executive;

public static class ExecutiveEndpoints
{
    public static WebApplicationBuilder AddExecutive(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ExecutiveQuery>();
        return builder;
    }

    /// <summary><c>GET /api/progress</c>: the executive summary (restored % by site, department and wave, burn-down, blockers, expected completion).</summary>
    public static WebApplication MapProgressApi(this WebApplication app)
    {
        app.MapGet("/api/progress", (ExecutiveQuery query, CancellationToken ct) => query.ReadAsync(ct)).RequireAuthorization(Policies.Executive);
        return app;
    }
}
