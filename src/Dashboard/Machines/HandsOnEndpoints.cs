using Npgsql;
using Reimage.Dashboard.Accounts;
using Reimage.Dashboard.Infrastructure;
using Reimage.Orchestrator.Evidence;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Machines;

public static class HandsOnEndpoints
{
    /// <summary>
    /// <c>POST /api/machines/{id}/steps/{step}/complete</c> with an <c>Idempotency-Key</c> header: a technician's
    /// check-off. 200 with the next step; 400 naming each missing or bad field (nothing stored, so the corrected
    /// request may reuse the key); 404/409 when the machine is not there or not at that step; a repeated key gets
    /// the first answer again. <c>GET /api/machines/{id}/custody</c>: the machine's evidence and its chain of custody.
    /// </summary>
    public static WebApplication MapHandsOnApi(this WebApplication app)
    {
        app.MapPost("/api/machines/{id:guid}/steps/{step}/complete", async (Guid id, string step, HandsOnCompletion body, HttpRequest request, HandsOnSteps steps,
            SiteScope scope, System.Security.Claims.ClaimsPrincipal user, CancellationToken ct) =>
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

            return Answer(await steps.CompleteAsync(id, parsed, body, key, ct));
        }).RequireAuthorization(Policies.Technician);

        app.MapGet("/api/machines/{id:guid}/custody", async (Guid id, NpgsqlDataSource db, SiteScope scope, System.Security.Claims.ClaimsPrincipal user, CancellationToken ct) =>
        {
            if (!await scope.MayActOnMachineAsync(user, id, ct))
            {
                return SiteScope.OutsideYourSites();
            }

            await using var command = db.CreateCommand(
                """
                SELECT coalesce(json_agg(json_build_object(
                    'id', e.id, 'driveSerial', e.drive_serial, 'driveModel', e.drive_model, 'hostname', e.hostname, 'macAddresses', e.mac_addresses,
                    'ipAddress', e.ip_address, 'evidenceBagId', e.evidence_bag_id, 'sealId', e.seal_id, 'collectedBy', e.collected_by,
                    'collectedAt', e.collected_at, 'timeZone', e.time_zone, 'storageLocation', e.storage_location,
                    'transfers', (SELECT json_agg(json_build_object('from', t."from", 'to', t."to", 'location', t.location, 'at', t.at, 'timeZone', t.time_zone, 'note', t.note) ORDER BY t.id)
                                  FROM reimage.custody_transfers t WHERE t.evidence_item_id = e.id)) ORDER BY e.collected_at), '[]')
                FROM reimage.evidence_items e WHERE e.machine_id = @id
                """);
            command.Parameters.AddWithValue("id", id);
            return Results.Text((string)(await command.ExecuteScalarAsync(ct))!, "application/json");
        }).RequireAuthorization(Policies.Technician);

        app.MapPost("/api/evidence/{id:guid}/transfers", async (Guid id, CustodyHandover body, Custody custody, SiteScope scope, System.Security.Claims.ClaimsPrincipal user, CancellationToken ct) =>
        {
            if (!await scope.MayActOnEvidenceAsync(user, id, ct))
            {
                return SiteScope.OutsideYourSites();
            }

            var result = await custody.TransferAsync(id, body.From, body.To, body.Location, body.Note, ct);
            return result.Outcome switch
            {
                TransferOutcome.Transferred => Results.Ok(new { evidenceItemId = id, heldBy = body.To!.Trim(), body.Location }),
                TransferOutcome.Invalid => Results.ValidationProblem(result.Errors!),
                TransferOutcome.NoSuchItem => Results.NotFound(new { error = result.Refusal }),
                _ => Results.Conflict(new { error = result.Refusal }),
            };
        }).RequireAuthorization(Policies.Technician);

        app.MapGet("/api/evidence/export", async (string? site, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "case")] string? caseNumber, Custody custody, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(site) && string.IsNullOrWhiteSpace(caseNumber))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["case"] = ["the case (or site) whose evidence register to export"] });
            }

            var csv = new StringWriter();
            site = string.IsNullOrWhiteSpace(site) ? null : site.Trim();
            caseNumber = string.IsNullOrWhiteSpace(caseNumber) ? null : caseNumber.Trim();
            await custody.ExportAsync(caseNumber, site, csv, ct);
            var name = string.Join("-", new[] { caseNumber, site }.Where(p => p is not null).Select(p => string.Concat(p!.Select(ch => char.IsLetterOrDigit(ch) ? ch : '_'))));
            return Results.File(System.Text.Encoding.UTF8.GetBytes(csv.ToString()), "text/csv", $"evidence-{name}.csv");
        }).RequireAuthorization(Policies.Lead);
        return app;
    }

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

/// <summary>A hand-over of an evidence item from its current holder.</summary>
public sealed record CustodyHandover(string? From, string? To, string? Location, string? Note);
