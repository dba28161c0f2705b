using System.Security.Claims;
using Npgsql;
using Reimage.Dashboard.Infrastructure;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Waves;

/// <summary>One wave as the lead's API and page show it.</summary>
public sealed record WaveView(
    Guid Id, string Name, int Ordinal, string Status, string? ApprovedBy, DateTimeOffset? ApprovedAt, DateTimeOffset? LaunchedAt,
    IReadOnlyDictionary<string, long> Machines, IReadOnlyList<GateView> Gates);

public sealed record GateView(Guid DependsOnWaveId, string DependsOnWave, int RestoredPercent, double CurrentPercent, bool Met);

public sealed record CreateWave(string Name, int Ordinal);

/// <summary>Machines to plan into a wave: explicit ids, or a filter over machines not yet planned.</summary>
public sealed record AddMachines(Guid[]? MachineIds, string? Site, string? Role, int? MaxCriticality, string? Department);

public sealed record SetGate(int RestoredPercent);

public sealed record MoveMachines(Guid[]? MachineIds);

public static class WaveEndpoints
{
    public static WebApplicationBuilder AddWaves(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<WaveQuery>();
        return builder;
    }

    public static WebApplication MapWaveApi(this WebApplication app)
    {
        var waves = app.MapGroup("/api/waves").RequireAuthorization(Policies.Lead);
        waves.MapGet("/", (WaveQuery query, CancellationToken ct) => query.ListAsync(ct));
        waves.MapPost("/", async (CreateWave body, WavePlanner planner, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 128)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["A wave needs a name of at most 128 characters."] });
            }

            try
            {
                var wave = await planner.CreateAsync(body.Name.Trim(), body.Ordinal, ct);
                return Results.Created($"/api/waves/{wave.Id}", new { wave.Id, wave.Name, wave.Ordinal, Status = wave.Status.ToString() });
            }
            catch (Microsoft.EntityFrameworkCore.DbUpdateException)
            {
                return Results.Conflict(new { error = $"A wave named \"{body.Name.Trim()}\" already exists." });
            }
        });
        waves.MapPost("/{id:guid}/machines", (Guid id, AddMachines body, WaveQuery query, WavePlanner planner, ClaimsPrincipal user, HttpContext http, CancellationToken ct) =>
            Guarded(async () =>
            {
                var ids = body.MachineIds ?? await query.NotPlannedMatchingAsync(body, ct);
                var planned = await planner.AddMachinesAsync(id, ids, LeadOf(user, http), ct);
                return Results.Ok(new { requested = ids.Length, planned });
            }));
        // Cancel is destructive: ?confirm=N must carry the number of machines it sends back to Not planned (428 says it).
        waves.MapPost("/{id:guid}/{action:regex(^(approve|launch|pause|resume|cancel)$)}",
            async (Guid id, string action, int? confirm, WavePlanner planner, ClaimsPrincipal user, HttpContext http, CancellationToken ct) =>
        {
            var lead = LeadOf(user, http);
            if (action == "cancel" && confirm is null)
            {
                var count = await planner.CancelCountAsync(id, ct);
                return Results.Json(new { error = $"cancelling sends {count} machines back to Not planned: send ?confirm={count} to cancel", machines = count },
                    statusCode: StatusCodes.Status428PreconditionRequired);
            }

            return await Guarded(async () =>
            {
                int? machines = action switch
                {
                    "approve" => await Run(() => planner.ApproveAsync(id, lead, ct)),
                    "launch" => await planner.LaunchAsync(id, lead, ct),
                    "pause" => await Run(() => planner.PauseAsync(id, lead, ct)),
                    "resume" => await Run(() => planner.ResumeAsync(id, lead, ct)),
                    _ => await planner.CancelAsync(id, confirm!.Value, lead, ct),
                };
                return Results.Ok(new { wave = id, action, machines });
            });
        });
        waves.MapPut("/{id:guid}/gates/{dependsOn:guid}", (Guid id, Guid dependsOn, SetGate body, WavePlanner planner, CancellationToken ct) =>
            Guarded(async () =>
            {
                await planner.SetGateAsync(id, dependsOn, body.RestoredPercent, ct);
                return Results.Ok(new { wave = id, dependsOn, body.RestoredPercent });
            }));

        waves.MapPost("/{id:guid}/machines/move", async (Guid id, MoveMachines body, WavePlanner planner, ClaimsPrincipal user, HttpContext http, CancellationToken ct) =>
        {
            if (body.MachineIds is not { Length: > 0 and <= 100_000 })
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["machineIds"] = ["Between 1 and 100,000 machine ids."] });
            }

            try
            {
                return Results.Ok(await planner.MoveMachinesAsync(id, body.MachineIds, LeadOf(user, http), ct));
            }
            catch (WaveRuleException e)
            {
                return e.NotFound ? Results.NotFound(new { error = e.Message }) : Results.Conflict(new { error = e.Message });
            }
        });
        return app;
    }

    private static Actor LeadOf(ClaimsPrincipal user, HttpContext http) =>
        new(user.Identity?.Name ?? "unknown", $"api {http.Connection.RemoteIpAddress}");

    private static async Task<int?> Run(Func<Task> action)
    {
        await action();
        return null;
    }

    /// <summary>Wave rules answer 404 (no such wave) or 409 (not allowed from the wave's status), never 500.</summary>
    private static async Task<IResult> Guarded(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (WaveRuleException e) when (e.NotFound)
        {
            return Results.NotFound(new { error = e.Message });
        }
        catch (WaveRuleException e)
        {
            return Results.Conflict(new { error = e.Message });
        }
    }
}
