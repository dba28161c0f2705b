using System.Security.Claims;
using Reimage.Dashboard.Accounts;
using Reimage.Dashboard.Infrastructure;
using Reimage.Orchestrator.Scheduling;
using Reimage.Orchestrator.Workflow;
using Reimage.Orchestrator.HandsOn;

namespace Reimage.Dashboard.HandsOn;

public sealed record TechnicianChoice(Guid TechnicianId, string? Reason);

/// <summary>
/// Hands-on work: a technician's queue in walking order, claim, release and a lead's reassignment, check-offs and
/// problem reports (the tablet pages beside this file post the same through <see cref="HandsOnSteps"/>).
/// </summary>
public static class HandsOnEndpoints
{
    public static WebApplicationBuilder AddHandsOn(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<TechnicianDesk>();
        return builder;
    }

    /// <summary>
    /// <c>POST /api/machines/{id}/steps/{step}/complete</c> with an <c>Idempotency-Key</c> header: a technician's
    /// check-off. 200 with the next step; 400 naming each missing or bad field (nothing stored, so the corrected
    /// request may reuse the key); 404/409 when the machine is not there or not at that step; a repeated key gets
    /// the first answer again. <c>GET /api/machines/{id}/custody</c>: the machine's evidence and its chain of custody.
    /// </summary>
    public static WebApplication MapHandsOnApi(this WebApplication app)
    {
        app.MapPost("/api/machines/{id:guid}/steps/{step}/complete", async (Guid id, string step, HandsOnCompletion body, HttpRequest request, HandsOnSteps steps,
            SiteScope scope, TechnicianDesk desk, ClaimsPrincipal user, CancellationToken ct) =>
        {
            if (!await scope.MayActOnMachineAsync(user, id, ct))
            {
                return SiteScope.OutsideYourSites();
            }

            var key = request.Headers["Idempotency-Key"].ToString();
            if (string.IsNullOrWhiteSpace(key) || key.Length > 128)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["Idempotency-Key"] = ["A header of 1 to 128 characters, the same for every resend of this check-off."] });
            }

            if (!Enum.TryParse<Step>(step, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["step"] = [$"unknown step '{step}'"] });
            }

            var who = await desk.ActorAsync(user, id, $"api {request.HttpContext.Connection.RemoteIpAddress}", ct);
            return Answer(await steps.CompleteAsync(id, parsed, body, key, who, ct));
        }).RequireAuthorization(Policies.Technician);

        // Technicians' own calls: allowed to technicians of the machine's (or technician's) site, and to leads.
        var crew = app.MapGroup("/api").RequireAuthorization(Policies.Technician);
        crew.MapGet("/technicians/{id:guid}/queue", async (Guid id, TechnicianWork work, SiteScope scope, ClaimsPrincipal user, CancellationToken ct) =>
            await scope.MayActOnTechnicianAsync(user, id, ct) ? Results.Ok(await work.QueueAsync(id, ct)) : SiteScope.OutsideYourSites());
        crew.MapPost("/machines/{id:guid}/claim", async (Guid id, TechnicianChoice body, TechnicianWork work, SiteScope scope, ClaimsPrincipal user, HttpContext http, CancellationToken ct) =>
            await scope.MayActOnMachineAsync(user, id, ct) ? await Answer(work.ClaimAsync(id, body.TechnicianId, ActorOf(user, http), ct)) : SiteScope.OutsideYourSites());
        crew.MapPost("/machines/{id:guid}/release", async (Guid id, TechnicianChoice body, TechnicianWork work, SiteScope scope, ClaimsPrincipal user, HttpContext http, CancellationToken ct) =>
            await scope.MayActOnMachineAsync(user, id, ct) ? await Answer(work.ReleaseAsync(id, body.TechnicianId, ActorOf(user, http), body.Reason, ct)) : SiteScope.OutsideYourSites());
        var lead = app.MapGroup("/api/machines").RequireAuthorization(Policies.Lead);
        lead.MapPost("/{id:guid}/reassign", (Guid id, TechnicianChoice body, TechnicianWork work, ClaimsPrincipal user, HttpContext http, CancellationToken ct) =>
            Answer(work.ReassignAsync(id, body.TechnicianId, ActorOf(user, http), ct)));

        return app;
    }

    private static async Task<IResult> Answer(Task<MachineOutcome> outcome)
    {
        var o = await outcome;
        return o.Done ? Results.Ok(o) : o.NoSuchMachine ? Results.NotFound(o) : Results.Conflict(o);
    }

    private static Actor ActorOf(ClaimsPrincipal user, HttpContext http) =>
        new(user.Identity?.Name ?? "unknown", $"api {http.Connection.RemoteIpAddress}");

    /// <summary>
    /// A check-off's or problem report's outcome as HTTP. The same outcome (a resend under the same key) always gives
    /// the same answer.
    /// </summary>
    private static IResult Answer(HandsOnResult result) => result.Outcome switch
    {
        HandsOnOutcome.Completed => Results.Ok(new
        {
            result.MachineId, step = result.Step.ToString(), result = "completed", nextStep = result.NextStep?.ToString(), evidenceItemId = result.EvidenceItemId,
        }),
        HandsOnOutcome.Reported => Results.Ok(new { result.MachineId, step = result.Step.ToString(), result = "reported", failureReason = result.FailureReason }),
        HandsOnOutcome.Invalid => Results.ValidationProblem(result.Errors!),
        HandsOnOutcome.NoSuchMachine => Results.NotFound(new { error = result.Refusal }),
        HandsOnOutcome.KeyReused => Results.UnprocessableEntity(new { error = result.Refusal }),
        _ => Results.Conflict(new { error = result.Refusal }),
    };
}
