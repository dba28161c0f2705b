using System.Text.Json;
using Npgsql;

namespace Reimage.Orchestrator.Workflow;

/// <summary>What a technician reports when checking off a hands-on step.</summary>
public sealed record HandsOnCompletion(
    string? Technician, string? RemovedDriveSerial = null, string? RemovedDriveModel = null, string? EvidenceBagId = null,
    string? SealId = null, string? StorageLocation = null, string? NewDriveSerial = null, string? CaseNumber = null);

/// <summary>The answer to a check-off: an HTTP status and its JSON body, kept under the idempotency key.</summary>
public sealed record HandsOnResult(int StatusCode, string Json);

/// <summary>
/// Technicians' check-offs of hands-on steps. Each carries an idempotency key: the first submission does the work
/// and its answer is stored with the key in the same transaction; a repeated submission gets the same answer and
/// changes nothing. Removing a drive cannot be checked off without the drive's serial, the evidence bag and the
/// seal; it creates the evidence record and its first custody entry.
/// </summary>
public sealed class HandsOnSteps(NpgsqlDataSource db, TransitionWriter writer, WorkflowKick kick, TimeProvider clock)
{
    private const int MaxField = 64;

    /// <summary>Field errors of a check-off, by field name; empty when it may be submitted.</summary>
    public static Dictionary<string, string[]> Validate(Step step, HandsOnCompletion c)
    {
        var errors = new Dictionary<string, string[]>();
        void Require(string field, string? value, string why)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors[field] = [why];
            }
            else if (value.Length > MaxField)
            {
                errors[field] = [$"at most {MaxField} characters"];
            }
        }

        Require("technician", c.Technician, "who did the work");
        switch (step)
        {
            case Step.RemoveDrive:
                Require("removedDriveSerial", c.RemovedDriveSerial, "the removed drive's serial number is evidence and must be recorded");
                Require("evidenceBagId", c.EvidenceBagId, "the evidence bag the drive went into");
                Require("sealId", c.SealId, "the id of the bag's tamper-evident seal");
                if (c.CaseNumber?.Trim().Length > MaxField)
                {
                    errors["caseNumber"] = [$"at most {MaxField} characters"];
                }

                break;
            case Step.InstallDrive:
                Require("newDriveSerial", c.NewDriveSerial, "the serial number of the drive fitted");
                break;
            case Step.ManualBoot:
                break;
            default:
                errors["step"] = [$"{step} is not a hands-on step"];
                break;
        }

        return errors;
    }

    public Task<HandsOnResult> CompleteAsync(Guid machineId, Step step, HandsOnCompletion completion, string idempotencyKey, CancellationToken ct) =>
        OnceAsync(machineId, step, idempotencyKey, (connection, transaction) => DoAsync(connection, transaction, machineId, step, completion, ct), ct);

    /// <summary>Field errors of a problem report, by field name; empty when it may be submitted.</summary>
    public static Dictionary<string, string[]> ValidateProblem(string? technician, string? problem)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(technician) || technician.Length > MaxField)
        {
            errors["technician"] = [$"who is reporting, at most {MaxField} characters"];
        }

        if (string.IsNullOrWhiteSpace(problem) || problem.Trim().Length > 500)
        {
            errors["problem"] = ["what is wrong, at most 500 characters"];
        }

        return errors;
    }

    /// <summary>
    /// A technician cannot do the hands-on step (machine not where the inventory says, wrong drive, hardware fault):
    /// the machine goes to the leads' failure queue with the report as its reason, still at that step, so that a
    /// lead's retry sends it back to a technician. Idempotent like a check-off.
    /// </summary>
    public Task<HandsOnResult> ReportProblemAsync(Guid machineId, Step step, string technician, string problem, string idempotencyKey, CancellationToken ct) =>
        OnceAsync(machineId, step, idempotencyKey, async (connection, transaction) =>
        {
            if (await LockAsync(connection, transaction, machineId, ct) is not { } locked)
            {
                return Answer(404, new { error = $"machine {machineId} does not exist" });
            }

            var (r, (hostname, _, _, _, _)) = locked;

            if (r.State != RecoveryState.InProgress || r.Step != step)
            {
                return Answer(409, new { error = $"{hostname} is {r.State}{(r.Step is null ? "" : $" at {r.Step}")}, not at {step}" });
            }

            var reason = $"{problem.Trim()} (reported by {technician.Trim()} at {step})";
            var won = await writer.WriteAsync(connection, transaction,
                [new Transition(machineId, r.Version, r.Path, r.State, RecoveryState.Failed, step, r.Attempt, r.WaveId, FailureReason: reason, Detail: "problem reported by a technician")],
                new Actor(technician.Trim(), "technician problem report"), ct);
            return won.Count == 0
                ? Answer(409, new { error = $"{hostname} moved on meanwhile" })
                : Answer(200, new { machineId, step = step.ToString(), result = "reported", failureReason = reason });
        }, ct);

    /// <summary>
    /// Runs <paramref name="work"/> once per idempotency key: the first submission does it and its answer is stored
    /// with the key in the same transaction; a repeat (also a concurrent twin, which waits on the key's row) gets the
    /// stored answer and changes nothing.
    /// </summary>
    private async Task<HandsOnResult> OnceAsync(Guid machineId, Step step, string idempotencyKey, Func<NpgsqlConnection, NpgsqlTransaction, Task<HandsOnResult>> work, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var claim = new NpgsqlCommand(
            """
            INSERT INTO reimage.idempotent_requests (key, machine_id, step, status_code, response, created_at)
            VALUES (@key, @machine, @step, 0, '', @now) ON CONFLICT (key) DO NOTHING
            """, connection, transaction))
        {
            claim.Parameters.AddWithValue("key", idempotencyKey);
            claim.Parameters.AddWithValue("machine", machineId);
            claim.Parameters.AddWithValue("step", step.ToString());
            claim.Parameters.AddWithValue("now", clock.GetUtcNow());
            if (await claim.ExecuteNonQueryAsync(ct) == 0)
            {
                return await StoredAsync(connection, transaction, idempotencyKey, machineId, step, ct);
            }
        }

        var result = await work(connection, transaction);
        await using (var store = new NpgsqlCommand(
            "UPDATE reimage.idempotent_requests SET status_code = @status, response = @response WHERE key = @key", connection, transaction))
        {
            store.Parameters.AddWithValue("key", idempotencyKey);
            store.Parameters.AddWithValue("status", result.StatusCode);
            store.Parameters.AddWithValue("response", result.Json);
            await store.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        if (result.StatusCode == 200)
        {
            kick.Kick();
        }

        return result;
    }

    /// <summary>The machine's recovery, locked for this transaction, with what its evidence record needs; null when there is no such machine.</summary>
    private static async Task<(Recovery Recovery, MachineFacts Machine)?> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid machineId, CancellationToken ct)
    {
        await using var select = new NpgsqlCommand(
            $"""
            SELECT {Recovery.Columns}, m.hostname, m.mac_addresses, m.ip_address, m.model, s.time_zone
            FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id JOIN reimage.sites s ON s.id = m.site_id
            WHERE r.machine_id = @id FOR UPDATE OF r
            """, connection, transaction);
        select.Parameters.AddWithValue("id", machineId);
        await using var reader = await select.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        var c = Recovery.ColumnCount;
        return (Recovery.Read(reader), new MachineFacts(reader.GetString(c), reader.GetFieldValue<string[]>(c + 1),
            reader.IsDBNull(c + 2) ? null : reader.GetString(c + 2), reader.IsDBNull(c + 3) ? null : reader.GetString(c + 3), reader.GetString(c + 4)));
    }

    private sealed record MachineFacts(string Hostname, string[] Macs, string? Ip, string? Model, string TimeZone);

    private async Task<HandsOnResult> DoAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid machineId, Step step, HandsOnCompletion c, CancellationToken ct)
    {
        if (await LockAsync(connection, transaction, machineId, ct) is not { } locked)
        {
            return Answer(404, new { error = $"machine {machineId} does not exist" });
        }

        var (r, (hostname, macs, ip, model, timeZone)) = locked;

        if (r.State != RecoveryState.InProgress || r.Step != step)
        {
            return Answer(409, new { error = $"{hostname} is {r.State}{(r.Step is null ? "" : $" at {r.Step}")}, not at {step}" });
        }

        var next = RecoveryPaths.Next(r.Path, step, r.RemoteBoot)!;
        var detail = step switch
        {
            Step.RemoveDrive => $"drive {c.RemovedDriveSerial} removed into evidence bag {c.EvidenceBagId}, seal {c.SealId}",
            Step.InstallDrive => $"drive {c.NewDriveSerial} installed",
            _ => "network boot started at the machine",
        };
        var won = await writer.WriteAsync(connection, transaction,
            [new Transition(machineId, r.Version, r.Path, r.State, RecoveryState.InProgress, next.Step, 1, r.WaveId, Detail: detail, ConsumePart: step == Step.InstallDrive)],
            new Actor(c.Technician!, "technician check-off"), ct);
        if (won.Count == 0)
        {
            return Answer(409, new { error = $"{hostname} moved on meanwhile" });
        }

        Guid? evidenceId = null;
        if (step == Step.RemoveDrive)
        {
            evidenceId = Guid.CreateVersion7();
            var location = string.IsNullOrWhiteSpace(c.StorageLocation) ? "site evidence locker" : c.StorageLocation.Trim();
            await using var evidence = new NpgsqlCommand(
                """
                INSERT INTO reimage.evidence_items (id, machine_id, drive_serial, drive_model, hostname, mac_addresses, ip_address,
                    evidence_bag_id, seal_id, collected_by, collected_at, time_zone, storage_location, case_number)
                VALUES (@id, @machine, @serial, @model, @host, @macs, @ip, @bag, @seal, @by, @now, @tz, @location, @case);
                INSERT INTO reimage.custody_transfers (evidence_item_id, "from", "to", location, at, time_zone, note)
                VALUES (@id, @host, @by, @location, @now, @tz, 'removed from the machine, bagged and sealed');
                """, connection, transaction);
            evidence.Parameters.AddWithValue("id", evidenceId.Value);
            evidence.Parameters.AddWithValue("machine", machineId);
            evidence.Parameters.AddWithValue("serial", c.RemovedDriveSerial!.Trim());
            evidence.Parameters.AddWithValue("model", (object?)c.RemovedDriveModel?.Trim() ?? model ?? (object)DBNull.Value);
            evidence.Parameters.AddWithValue("host", hostname);
            evidence.Parameters.AddWithValue("macs", macs);
            evidence.Parameters.AddWithValue("ip", (object?)ip ?? DBNull.Value);
            evidence.Parameters.AddWithValue("bag", c.EvidenceBagId!.Trim());
            evidence.Parameters.AddWithValue("seal", c.SealId!.Trim());
            evidence.Parameters.AddWithValue("by", c.Technician!.Trim());
            evidence.Parameters.AddWithValue("now", clock.GetUtcNow());
            evidence.Parameters.AddWithValue("tz", timeZone);
            evidence.Parameters.AddWithValue("location", location);
            evidence.Parameters.AddWithValue("case", string.IsNullOrWhiteSpace(c.CaseNumber) ? Evidence.EvidenceItem.UnassignedCase : c.CaseNumber.Trim());
            await evidence.ExecuteNonQueryAsync(ct);
        }

        return Answer(200, new { machineId, step = step.ToString(), result = "completed", nextStep = next.Step.ToString(), evidenceItemId = evidenceId });
    }

    private static async Task<HandsOnResult> StoredAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string key, Guid machineId, Step step, CancellationToken ct)
    {
        await using var select = new NpgsqlCommand("SELECT machine_id, step, status_code, response FROM reimage.idempotent_requests WHERE key = @key", connection, transaction);
        select.Parameters.AddWithValue("key", key);
        await using var reader = await select.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return reader.GetGuid(0) != machineId || reader.GetString(1) != step.ToString()
            ? Answer(422, new { error = "this idempotency key was already used for another check-off" })
            : new HandsOnResult(reader.GetInt32(2), reader.GetString(3));
    }

    private static HandsOnResult Answer(int status, object body) => new(status, JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
}
