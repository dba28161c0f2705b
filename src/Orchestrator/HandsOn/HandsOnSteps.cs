using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.HandsOn;

/// <summary>What a technician reports when checking off a hands-on step.</summary>
/// <summary>
/// What a technician records at a check-off. Who did the work is not in it: it is the signed-in account (and the
/// roster entry linked to it), passed as the <see cref="Actor"/>; a name in a request is never trusted.
/// </summary>
public sealed record HandsOnCompletion(
    string? RemovedDriveSerial = null, string? RemovedDriveModel = null, string? EvidenceBagId = null,
    string? SealId = null, string? StorageLocation = null, string? NewDriveSerial = null, string? CaseNumber = null);

/// <summary>How a check-off or problem report ended.</summary>
public enum HandsOnOutcome
{
    /// <summary>The step is checked off; the machine is at <see cref="HandsOnResult.NextStep"/>.</summary>
    Completed,

    /// <summary>The problem is reported; the machine is in the leads' failure queue.</summary>
    Reported,

    /// <summary>Fields are missing or bad (<see cref="HandsOnResult.Errors"/>); nothing was stored, so the corrected submission may reuse its key.</summary>
    Invalid,

    NoSuchMachine,

    /// <summary>The machine is not at that step (it was never there, or has moved on since the form was made).</summary>
    NotAtStep,

    /// <summary>The idempotency key was already used for another machine or step.</summary>
    KeyReused,
}

/// <summary>
/// The answer to a check-off or problem report, kept under its idempotency key: a resend gets this same answer.
/// <see cref="Refusal"/> says why when the outcome is a refusal.
/// </summary>
public sealed record HandsOnResult(
    HandsOnOutcome Outcome, Guid MachineId, Step Step, string? Refusal = null, Step? NextStep = null, Guid? EvidenceItemId = null,
    string? FailureReason = null, IReadOnlyDictionary<string, string[]>? Errors = null)
{
    public bool Succeeded => Outcome is HandsOnOutcome.Completed or HandsOnOutcome.Reported;
}

/// <summary>
/// Technicians' check-offs of hands-on steps. Each carries an idempotency key: the first submission does the work
/// and its answer is stored with the key in the same transaction; a repeated submission gets the same answer and
/// changes nothing. Removing a drive cannot be checked off without the drive's serial, the evidence bag and the
/// seal; it creates the evidence record and its first custody entry.
/// </summary>
public sealed class HandsOnSteps(NpgsqlDataSource db, TransitionWriter writer, Evidence.Custody custody, WorkflowKick kick, TimeProvider clock)
{
    private static readonly JsonSerializerOptions Stored = new(JsonSerializerOptions.Web) { Converters = { new JsonStringEnumConverter() } };

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

    /// <summary>
    /// Checks off <paramref name="step"/> of a machine, once per idempotency key. Invalid fields are answered
    /// <see cref="HandsOnOutcome.Invalid"/> without storing anything.
    /// </summary>
    public async Task<HandsOnResult> CompleteAsync(Guid machineId, Step step, HandsOnCompletion completion, string idempotencyKey, Actor who, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(who);
        var errors = Validate(step, completion);
        return errors.Count > 0
            ? new HandsOnResult(HandsOnOutcome.Invalid, machineId, step, "some fields need attention", Errors: errors)
            : await OnceAsync(machineId, step, idempotencyKey, (connection, transaction) => DoAsync(connection, transaction, machineId, step, completion, who, ct), ct);
    }

    /// <summary>Field errors of a problem report, by field name; empty when it may be submitted.</summary>
    public static Dictionary<string, string[]> ValidateProblem(string? problem)
    {
        var errors = new Dictionary<string, string[]>();
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
    public async Task<HandsOnResult> ReportProblemAsync(Guid machineId, Step step, string problem, string idempotencyKey, Actor who, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(who);
        var errors = ValidateProblem(problem);
        if (errors.Count > 0)
        {
            return new HandsOnResult(HandsOnOutcome.Invalid, machineId, step, "some fields need attention", Errors: errors);
        }

        return await OnceAsync(machineId, step, idempotencyKey, async (connection, transaction) =>
        {
            if (await LockAsync(connection, transaction, machineId, ct) is not { } locked)
            {
                return NoSuchMachine(machineId, step);
            }

            var (r, machine) = locked;
            if (r.State != RecoveryState.InProgress || r.Step != step)
            {
                return NotAtStep(machineId, step, machine.Hostname, r);
            }

            var reason = $"{problem.Trim()} (reported by {who.Display} at {step})";
            var won = await writer.WriteAsync(connection, transaction,
                [new Transition(machineId, r.Version, r.Path, r.State, RecoveryState.Failed, step, r.Attempt, r.WaveId, FailureReason: reason, Detail: "problem reported by a technician")],
                who, ct);
            return won.Count == 0
                ? MovedOn(machineId, step, machine.Hostname)
                : new HandsOnResult(HandsOnOutcome.Reported, machineId, step, FailureReason: reason);
        }, ct);
    }

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
            INSERT INTO reimage.idempotent_requests (key, machine_id, step, outcome, response, created_at)
            VALUES (@key, @machine, @step, '', '', @now) ON CONFLICT (key) DO NOTHING
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
            "UPDATE reimage.idempotent_requests SET outcome = @outcome, response = @response WHERE key = @key", connection, transaction))
        {
            store.Parameters.AddWithValue("key", idempotencyKey);
            store.Parameters.AddWithValue("outcome", result.Outcome.ToString());
            store.Parameters.AddWithValue("response", JsonSerializer.Serialize(result, Stored));
            await store.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        if (result.Succeeded)
        {
            kick.Kick();
        }

        return result;
    }

    /// <summary>The machine's recovery, locked for this transaction, with what its evidence record needs; null when there is no such machine.</summary>
    private static async Task<(Recovery Recovery, Evidence.CollectedFrom Machine)?> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid machineId, CancellationToken ct)
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

        return (Recovery.Read(reader), new Evidence.CollectedFrom(
            reader.GetString(reader.GetOrdinal("hostname")), reader.GetFieldValue<string[]>(reader.GetOrdinal("mac_addresses")),
            reader.GetNullableString("ip_address"), reader.GetNullableString("model"), reader.GetString(reader.GetOrdinal("time_zone"))));
    }

    private async Task<HandsOnResult> DoAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid machineId, Step step, HandsOnCompletion c, Actor who,
        CancellationToken ct)
    {
        if (await LockAsync(connection, transaction, machineId, ct) is not { } locked)
        {
            return NoSuchMachine(machineId, step);
        }

        var (r, machine) = locked;
        if (r.State != RecoveryState.InProgress || r.Step != step)
        {
            return NotAtStep(machineId, step, machine.Hostname, r);
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
            who, ct);
        if (won.Count == 0)
        {
            return MovedOn(machineId, step, machine.Hostname);
        }

        Guid? evidenceId = step != Step.RemoveDrive ? null : await custody.CollectAsync(connection, transaction, machineId, machine,
            new Evidence.DriveCollection(c.RemovedDriveSerial!, c.RemovedDriveModel, c.EvidenceBagId!, c.SealId!, c.StorageLocation, c.CaseNumber), who, ct);
        return new HandsOnResult(HandsOnOutcome.Completed, machineId, step, NextStep: next.Step, EvidenceItemId: evidenceId);
    }

    private static HandsOnResult NoSuchMachine(Guid machineId, Step step) =>
        new(HandsOnOutcome.NoSuchMachine, machineId, step, $"machine {machineId} does not exist");

    private static HandsOnResult NotAtStep(Guid machineId, Step step, string hostname, Recovery r) =>
        new(HandsOnOutcome.NotAtStep, machineId, step, $"{hostname} is {r.State}{(r.Step is null ? "" : $" at {r.Step}")}, not at {step}");

    private static HandsOnResult MovedOn(Guid machineId, Step step, string hostname) =>
        new(HandsOnOutcome.NotAtStep, machineId, step, $"{hostname} moved on meanwhile");

    private static async Task<HandsOnResult> StoredAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string key, Guid machineId, Step step, CancellationToken ct)
    {
        await using var select = new NpgsqlCommand("SELECT machine_id, step, response FROM reimage.idempotent_requests WHERE key = @key", connection, transaction);
        select.Parameters.AddWithValue("key", key);
        await using var reader = await select.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return reader.GetGuid(0) != machineId || reader.GetString(1) != step.ToString()
            ? new HandsOnResult(HandsOnOutcome.KeyReused, machineId, step, "this idempotency key was already used for another check-off")
            : JsonSerializer.Deserialize<HandsOnResult>(reader.GetString(2), Stored)!;
    }
}
