using System.Globalization;
using CsvHelper;
using Npgsql;

namespace Reimage.Orchestrator.Evidence;

/// <summary>The machine a drive is removed from, as its evidence record describes it.</summary>
public sealed record CollectedFrom(string Hostname, string[] MacAddresses, string? IpAddress, string? Model, string TimeZone);

/// <summary>What the technician who removed a drive records about it (who did is the check-off's signed-in account).</summary>
public sealed record DriveCollection(string DriveSerial, string? DriveModel, string EvidenceBagId, string SealId, string? StorageLocation, string? CaseNumber);

/// <summary>
/// Who receives an evidence item: a person with an account (<see cref="Account"/> set, <see cref="Name"/> as the
/// records show them), or someone without one named as typed (a courier, a lawyer): a claim, recorded beside the
/// account that entered it.
/// </summary>
public sealed record CustodyReceiver(string? Name, string? Account = null);

public enum TransferOutcome
{
    Transferred,

    /// <summary>Fields missing or bad (<see cref="TransferResult.Errors"/>); nothing recorded.</summary>
    Invalid,

    NoSuchItem,

    /// <summary>An item held by an account can be handed over only by that account (or a lead).</summary>
    NotTheHolder,
}

/// <summary>The answer to a hand-over; <see cref="Refusal"/> says why when it was refused.</summary>
public sealed record TransferResult(TransferOutcome Outcome, string? Refusal = null, IReadOnlyDictionary<string, string[]>? Errors = null);

/// <summary>
/// The only writer of evidence: a removed drive's evidence record with its first custody entry, hand-overs
/// (append-only), and the evidence register as CSV.
/// </summary>
public sealed class Custody(NpgsqlDataSource db, TimeProvider clock)
{
    /// <summary>
    /// Records a drive removed from a machine as evidence, collected by and held by <paramref name="collector"/> (the
    /// check-off's signed-in account), in the caller's transaction (the check-off that removed it). Returns its id.
    /// </summary>
    public async Task<Guid> CollectAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid machineId, CollectedFrom machine,
        DriveCollection drive, Workflow.Actor collector, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(collector);
        var id = Guid.CreateVersion7();
        var location = string.IsNullOrWhiteSpace(drive.StorageLocation) ? "site evidence locker" : drive.StorageLocation.Trim();
        // The item, its first custody entry, and the event sealing both into the machine's chain: one statement.
        await using var evidence = new NpgsqlCommand(
            $"""
            WITH item AS (
                INSERT INTO reimage.evidence_items (id, machine_id, drive_serial, drive_model, hostname, mac_addresses, ip_address,
                    evidence_bag_id, seal_id, collected_by, collected_at, time_zone, storage_location, case_number)
                VALUES (@id, @machine, @serial, @model, @host, @macs, @ip, @bag, @seal, @by, @now, @tz, @location, @case)
                RETURNING *),
            first_entry AS (
                INSERT INTO reimage.custody_transfers (evidence_item_id, "from", "to", to_account, entered_by, location, at, time_zone, note)
                SELECT i.id, i.hostname, i.collected_by, @actor, @actor, i.storage_location, i.collected_at, i.time_zone, 'removed from the machine, bagged and sealed'
                FROM item i
                RETURNING *),
            entries AS (
                SELECT i.machine_id, '{EvidenceSeal.ItemKind}' AS kind, NULL::text AS from_state, NULL::text AS to_state, NULL::text AS step,
                    {EvidenceSeal.ItemSql("i")} || E'\n' || {EvidenceSeal.TransferSql("f")} AS detail, i.time_zone
                FROM item i, first_entry f),
            {Audit.AuditChain.Append("entries")}
            SELECT count(*) FROM appended
            """, connection, transaction);
        evidence.Parameters.AddWithValue("id", id);
        evidence.Parameters.AddWithValue("machine", machineId);
        evidence.Parameters.AddWithValue("serial", drive.DriveSerial.Trim());
        evidence.Parameters.AddWithValue("model", (object?)drive.DriveModel?.Trim() ?? machine.Model ?? (object)DBNull.Value);
        evidence.Parameters.AddWithValue("host", machine.Hostname);
        evidence.Parameters.AddWithValue("macs", machine.MacAddresses);
        evidence.Parameters.AddWithValue("ip", (object?)machine.IpAddress ?? DBNull.Value);
        evidence.Parameters.AddWithValue("bag", drive.EvidenceBagId.Trim());
        evidence.Parameters.AddWithValue("seal", drive.SealId.Trim());
        evidence.Parameters.AddWithValue("by", collector.Display);
        evidence.Parameters.AddWithValue("actor", collector.Name);
        evidence.Parameters.AddWithValue("origin", collector.Origin);
        evidence.Parameters.AddWithValue("now", clock.GetUtcNow());
        evidence.Parameters.AddWithValue("tz", machine.TimeZone);
        evidence.Parameters.AddWithValue("location", location);
        evidence.Parameters.AddWithValue("case", string.IsNullOrWhiteSpace(drive.CaseNumber) ? EvidenceItem.UnassignedCase : drive.CaseNumber.Trim());
        if (Convert.ToInt64(await evidence.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture) != 1)
        {
            throw new InvalidOperationException($"the evidence of machine {machineId} could not be sealed into its chain");
        }

        return id;
    }

    /// <summary>Field errors of a hand-over, by field name; empty when it may be recorded.</summary>
    private static Dictionary<string, string[]> ValidateTransfer(string? to, string? location, string? note)
    {
        var errors = new Dictionary<string, string[]>();
        foreach (var (field, value) in new[] { ("to", to), ("location", location) })
        {
            if (string.IsNullOrWhiteSpace(value) || value.Length > 128)
            {
                errors[field] = ["required, at most 128 characters"];
            }
        }

        if (note is { Length: > 500 })
        {
            errors["note"] = ["at most 500 characters"];
        }

        return errors;
    }

    /// <summary>
    /// Records that the current holder handed the item to <paramref name="to"/> at <paramref name="location"/>, entered by
    /// <paramref name="enteredBy"/> (the signed-in account). An item held by an account is handed over by that account,
    /// or by a lead (<paramref name="mayActForHolder"/>); one held by someone without an account, by whoever receives it
    /// back (the entry names who entered it).
    /// </summary>
    public async Task<TransferResult> TransferAsync(Guid evidenceItemId, CustodyReceiver to, string? location, string? note, Workflow.Actor enteredBy,
        bool mayActForHolder, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(enteredBy);
        if (ValidateTransfer(to.Name, location, note) is { Count: > 0 } errors)
        {
            return new TransferResult(TransferOutcome.Invalid, "some fields need attention", errors);
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        string holder, timeZone;
        string? holderAccount;
        await using (var current = new NpgsqlCommand(
            """
            SELECT t."to", e.time_zone, t.to_account FROM reimage.evidence_items e
            JOIN reimage.custody_transfers t ON t.evidence_item_id = e.id
            JOIN reimage.recoveries r ON r.machine_id = e.machine_id
            WHERE e.id = @id ORDER BY t.id DESC LIMIT 1
            FOR UPDATE OF e, r
            """, connection, transaction))
        {
            current.Parameters.AddWithValue("id", evidenceItemId);
            await using var reader = await current.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return new TransferResult(TransferOutcome.NoSuchItem, "no such evidence item");
            }

            (holder, timeZone, holderAccount) = (reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
        }

        if (holderAccount is not null && !mayActForHolder && !string.Equals(holderAccount, enteredBy.Name, StringComparison.OrdinalIgnoreCase))
        {
            return new TransferResult(TransferOutcome.NotTheHolder, $"the item is held by {holder}: only that account, or a lead, can hand it over");
        }

        // The hand-over and the event sealing it into the machine's chain (its recovery row is locked above).
        await using (var insert = new NpgsqlCommand(
            $"""
            WITH handed AS (
                INSERT INTO reimage.custody_transfers (evidence_item_id, "from", "to", to_account, entered_by, location, at, time_zone, note)
                VALUES (@id, @from, @to, @account, @actor, @location, @now, @tz, @note)
                RETURNING *),
            entries AS (
                SELECT e.machine_id, '{EvidenceSeal.TransferKind}' AS kind, NULL::text AS from_state, NULL::text AS to_state, NULL::text AS step,
                    {EvidenceSeal.TransferSql("h")} AS detail, h.time_zone
                FROM handed h JOIN reimage.evidence_items e ON e.id = h.evidence_item_id),
            {Audit.AuditChain.Append("entries")}
            SELECT count(*) FROM appended
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", evidenceItemId);
            insert.Parameters.AddWithValue("from", holder);
            insert.Parameters.AddWithValue("to", to.Name!.Trim());
            insert.Parameters.AddWithValue("account", (object?)to.Account ?? DBNull.Value);
            insert.Parameters.AddWithValue("actor", enteredBy.Name);
            insert.Parameters.AddWithValue("origin", enteredBy.Origin);
            insert.Parameters.AddWithValue("location", location!.Trim());
            insert.Parameters.AddWithValue("now", clock.GetUtcNow());
            insert.Parameters.AddWithValue("tz", timeZone);
            insert.Parameters.AddWithValue("note", (object?)note ?? DBNull.Value);
            await insert.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return new TransferResult(TransferOutcome.Transferred);
    }

    /// <summary>
    /// The evidence register of one case, one site, or one site's share of a case (one line per hand-over, items in
    /// collection order) as CSV, safe to open in a spreadsheet: a cell starting with = + - @, a tab or a carriage
    /// return is prefixed with an apostrophe.
    /// </summary>
    public async Task ExportAsync(string? caseNumber, string? siteCode, TextWriter output, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            $"""
            SELECT x.case_number, x.evidence_bag_id, x.seal_id, x.drive_serial, x.drive_model, x.hostname, x.macs, x.ip_address, x.collected_by,
                   x.collected_at, x.time_zone, x."from", x."to", x.to_account, x.entered_by, x.location, x.at, x.note FROM (
                SELECT e.case_number, e.evidence_bag_id, e.seal_id, e.drive_serial, e.drive_model, e.hostname, array_to_string(e.mac_addresses, ' ') AS macs,
                       e.ip_address, e.collected_by, e.collected_at, e.time_zone, t."from", t."to", t.to_account, t.entered_by, t.location, t.at, t.note,
                       e.id::text AS item, t.id AS seq
                FROM reimage.evidence_items e
                JOIN reimage.machines m ON m.id = e.machine_id JOIN reimage.sites s ON s.id = m.site_id
                JOIN reimage.custody_transfers t ON t.evidence_item_id = e.id
                WHERE (@site::text IS NULL OR lower(s.code) = lower(@site)) AND (@case::text IS NULL OR e.case_number = @case)
                UNION ALL
                -- A machine that left RemoveDrive without its drive: the lead's recorded evidence exception (no case: the register of a site lists them).
                SELECT NULL, NULL, NULL, NULL, NULL, m.hostname, array_to_string(m.mac_addresses, ' '), m.ip_address, ev.actor, ev.occurred_at, ev.time_zone,
                       NULL, NULL, NULL, ev.actor, NULL, ev.occurred_at, ev.detail, ev.machine_id::text, ev.id
                FROM reimage.machine_events ev
                JOIN reimage.machines m ON m.id = ev.machine_id JOIN reimage.sites s ON s.id = m.site_id
                WHERE ev.kind = 'transition' AND starts_with(ev.detail, '{Workflow.EvidenceExceptions.DetailPrefix}')
                  AND @case::text IS NULL AND (@site::text IS NULL OR lower(s.code) = lower(@site))) x
            ORDER BY x.collected_at, x.item, x.seq
            """);
        command.Parameters.AddWithValue("site", (object?)siteCode ?? DBNull.Value);
        command.Parameters.AddWithValue("case", (object?)caseNumber ?? DBNull.Value);
        // Everything a spreadsheet would run as a formula is escaped: = + - @, tab and carriage return.
        using var csv = CsvWriter.Create(output, new CsvWriterOptions
        {
            Injection = CsvInjection.Escape,
            InjectionCharacters = "=+-@\t\r",
        }, true);
        foreach (var header in (string[])["case_number", "evidence_bag_id", "seal_id", "drive_serial", "drive_model", "hostname", "mac_addresses", "ip_address",
            "collected_by", "collected_at", "time_zone", "handed_from", "handed_to", "handed_to_account", "entered_by", "location", "handed_at", "note"])
        {
            csv.WriteField(header);
        }

        csv.EndRecord();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                csv.WriteField(reader.IsDBNull(i) ? "" : reader.GetValue(i) is DateTime at
                    ? at.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
                    : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture));
            }

            csv.EndRecord();
        }

        csv.Flush();
    }
}
