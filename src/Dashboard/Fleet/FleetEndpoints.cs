using System.Security.Claims;
using Reimage.Dashboard.Infrastructure;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Fleet;

/// <summary>A lead's action on machines; <see cref="Confirm"/> must be the number of distinct machines it names (a bulk
/// action is confirmed with its count, server-side, so a script or a stale page cannot act on more than it showed).</summary>
public sealed record MachineActionRequest(string Action, Guid[] MachineIds, string? Reason, int? Confirm = null);

/// <summary>The fleet of machines for leads: the grid's reads, export, bulk and lead actions on machines.</summary>
public static class FleetEndpoints
{
    public static WebApplicationBuilder AddFleet(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<FleetStatus>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FleetStatus>());
        builder.Services.AddSingleton<FleetQuery>();
        builder.Services.AddSingleton<FleetExport>();
        builder.Services.AddSingleton<MachineDetailQuery>();
        builder.Services.AddSingleton<SavedFilters>();
        builder.Services.AddSingleton<FleetBulk>();
        return builder;
    }

    /// <summary>
    /// <c>GET /api/machines/export</c>: the grid's filter as CSV, UTF-8 with a byte-order mark so that Excel shows
    /// Arabic and accented names as written (<c>?bom=false</c> for tools that do not want one);
    /// <c>POST /api/machines/actions</c>: retry, skip or requeue machines, one answer each. For leads.
    /// </summary>
    public static WebApplication MapFleetApi(this WebApplication app)
    {
        app.MapGet("/api/machines/export", async (string? site, string? state, string? text, bool? bom, FleetExport export, TimeProvider clock, HttpContext http, CancellationToken ct) =>
        {
            var (filter, error) = FleetExport.Parse(site, state, text);
            if (filter is null)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["filter"] = [error!] });
            }

            http.Response.ContentType = "text/csv; charset=utf-8";
            http.Response.Headers.ContentDisposition = $"attachment; filename=\"fleet-{clock.GetUtcNow():yyyyMMdd-HHmm}.csv\"";
            await using var writer = new StreamWriter(http.Response.Body, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: bom ?? true));
            await export.WriteAsync(filter, writer, ct);
            return Results.Empty;
        }).RequireAuthorization(Policies.Lead);

        app.MapPost("/api/machines/actions", async (MachineActionRequest body, LeadActions actions, ClaimsPrincipal user, HttpContext http, CancellationToken ct) =>
        {
            if (!Enum.TryParse<LeadAction>(body.Action, ignoreCase: true, out var action) || !Enum.IsDefined(action))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["action"] = ["One of: retry, skip, requeue, evidenceException (for a machine at RemoveDrive whose drive cannot be kept: reason \"Category: what happened\")."] });
            }

            if (body.MachineIds is not { Length: > 0 and <= 100_000 })
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["machineIds"] = ["Between 1 and 100,000 machine ids."] });
            }

            var count = body.MachineIds.Distinct().Count();
            if (body.Confirm != count)
            {
                return Results.Json(new { error = $"{action} of {count} machine{(count == 1 ? "" : "s")}: send \"confirm\": {count} to apply it", machines = count },
                    statusCode: StatusCodes.Status428PreconditionRequired);
            }

            return Results.Ok(await actions.ApplyAsync(action, body.MachineIds, body.Reason, new Actor(user.Identity?.Name ?? "unknown", $"api {http.Connection.RemoteIpAddress}"), ct));
        }).RequireAuthorization(Policies.Lead);
        return app;
    }
}
