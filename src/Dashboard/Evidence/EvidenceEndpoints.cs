using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Npgsql;
using Reimage.Dashboard.Accounts;
using Reimage.Dashboard.Infrastructure;
using Reimage.Orchestrator.Evidence;
using Reimage.Orchestrator.HandsOn;

namespace Reimage.Dashboard.Evidence;

/// <summary>
/// A hand-over of an evidence item from its current holder to a person with an account (<see cref="ToAccount"/>, their
/// user name) or to someone without one (<see cref="To"/>, a typed name: a claim, recorded beside the account that
/// entered it). Who hands it over is the signed-in account; nothing in the request says so.
/// </summary>
public sealed record CustodyHandover(string? To, string? ToAccount, string? Location, string? Note);

/// <summary>
/// Evidence: <c>GET /api/machines/{id}/custody</c> (a machine's evidence and its chain of custody),
/// <c>POST /api/evidence/{id}/transfers</c> (a hand-over, only by the current holder) and
/// <c>GET /api/evidence/export</c> (the register of a case or site as CSV, for leads) and <c>GET /api/evidence/bundle</c>
/// (the sealed, offline-verifiable bundle of a case or site). Evidence is created by the
/// RemoveDrive check-off (<see cref="Orchestrator.Workflow.HandsOnSteps"/>), written by <see cref="Custody"/>.
/// </summary>
public static class EvidenceEndpoints
{
    public static WebApplication MapEvidenceApi(this WebApplication app)
    {
        app.MapGet("/api/machines/{id:guid}/custody", async (Guid id, NpgsqlDataSource db, SiteScope scope, ClaimsPrincipal user, CancellationToken ct) =>
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
                    'transfers', (SELECT json_agg(json_build_object('from', t."from", 'to', t."to", 'toAccount', t.to_account, 'enteredBy', t.entered_by,
                                  'location', t.location, 'at', t.at, 'timeZone', t.time_zone, 'note', t.note) ORDER BY t.id)
                                  FROM reimage.custody_transfers t WHERE t.evidence_item_id = e.id)) ORDER BY e.collected_at), '[]')
                FROM reimage.evidence_items e WHERE e.machine_id = @id
                """);
            command.Parameters.AddWithValue("id", id);
            return Results.Text((string)(await command.ExecuteScalarAsync(ct))!, "application/json");
        }).RequireAuthorization(Policies.Technician);

        app.MapPost("/api/evidence/{id:guid}/transfers", async (Guid id, CustodyHandover body, Custody custody, SiteScope scope,
            UserManager<ReimageUser> users, ClaimsPrincipal user, HttpContext http, CancellationToken ct) =>
        {
            if (!await scope.MayActOnEvidenceAsync(user, id, ct))
            {
                return SiteScope.OutsideYourSites();
            }

            var receiver = new CustodyReceiver(body.To);
            if (!string.IsNullOrWhiteSpace(body.ToAccount))
            {
                if (await users.FindByNameAsync(body.ToAccount.Trim()) is not { } account)
                {
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["toAccount"] = [$"there is no account \"{body.ToAccount.Trim()}\""] });
                }

                var shown = string.IsNullOrWhiteSpace(account.DisplayName) || account.DisplayName == account.UserName ? account.UserName! : $"{account.DisplayName} ({account.UserName})";
                receiver = new CustodyReceiver(shown, account.UserName);
            }

            var enteredBy = new Orchestrator.Workflow.Actor(user.Identity!.Name!, $"api {http.Connection.RemoteIpAddress}");
            var result = await custody.TransferAsync(id, receiver, body.Location, body.Note, enteredBy, mayActForHolder: user.IsInRole(Roles.Lead) || user.IsInRole(Roles.Admin), ct);
            return result.Outcome switch
            {
                TransferOutcome.Transferred => Results.Ok(new { evidenceItemId = id, heldBy = receiver.Name!.Trim(), body.Location, enteredBy = enteredBy.Name }),
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

        // The sealed bundle of a case or site: verifiable offline with the public checkpoint key (verify-bundle FILE).
        app.MapGet("/api/evidence/bundle", async (string? site, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "case")] string? caseNumber, NpgsqlDataSource db,
            Orchestrator.Audit.Checkpoints checkpoints, TimeProvider clock, CancellationToken ct) =>
        {
            site = string.IsNullOrWhiteSpace(site) ? null : site.Trim();
            caseNumber = string.IsNullOrWhiteSpace(caseNumber) ? null : caseNumber.Trim();
            if (site is null && caseNumber is null)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["case"] = ["the case (or site) whose evidence to bundle"] });
            }

            var file = new MemoryStream();
            var summary = await EvidenceBundle.WriteAsync(db, checkpoints, checkpoints.PublicKeyHex, caseNumber, site, clock.GetUtcNow(), file, ct);
            if (summary is null)
            {
                return Results.NotFound(new { error = "no evidence (or evidence exception) in that scope" });
            }

            var name = string.Join("-", new[] { caseNumber, site }.Where(p => p is not null).Select(p => string.Concat(p!.Select(ch => char.IsLetterOrDigit(ch) ? ch : '_'))));
            return Results.File(file.ToArray(), "application/zip", $"evidence-{name}.zip");
        }).RequireAuthorization(Policies.Lead);
        return app;
    }
}
