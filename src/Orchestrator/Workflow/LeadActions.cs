using Npgsql;
using Reimage.Orchestrator.HandsOn;

namespace Reimage.Orchestrator.Workflow;

/// <summary>What an action did to one machine; <see cref="NoSuchMachine"/> when there is no machine of that id.</summary>
public sealed record MachineOutcome(Guid MachineId, bool Done, string Result)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public bool NoSuchMachine { get; init; }

    public static MachineOutcome Missing(Guid machineId) => new(machineId, false, "no such machine") { NoSuchMachine = true };
}

public enum LeadAction
{
    /// <summary>Run the current step again (a Failed machine, or one stuck in a step).</summary>
    Retry,

    /// <summary>Move past the current step, with a reason. Verification cannot be skipped.</summary>
    Skip,

    /// <summary>Start the path over: back to Queued in its wave.</summary>
    Requeue,

    /// <summary>
    /// Move past RemoveDrive when there is no drive to keep as evidence (missing, unreadable, destroyed): the reason
    /// names an <see cref="EvidenceExceptions"/> category and what happened, and the exception is recorded in the
    /// machine's chain under the lead's account and listed in the evidence register. RemoveDrive cannot be skipped.
    /// </summary>
    EvidenceException,
}

/// <summary>Why a machine leaves RemoveDrive without evidence: the categories a lead chooses from.</summary>
public static class EvidenceExceptions
{
    public static readonly string[] Categories = ["DriveMissing", "DriveUnreadable", "DriveDestroyed", "NoDriveFitted"];

    /// <summary>The prefix of the chain event's detail that marks an evidence exception (the register reads it).</summary>
    public const string DetailPrefix = "evidence exception ";

    /// <summary>Reads "Category: what happened"; null and a message when it is not that.</summary>
    public static (string? Category, string? Text, string? Problem) Parse(string? reason)
    {
        var colon = reason?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        var category = colon > 0 ? reason![..colon].Trim() : null;
        var text = colon > 0 ? reason![(colon + 1)..].Trim() : null;
        var known = Categories.FirstOrDefault(c => string.Equals(c, category, StringComparison.OrdinalIgnoreCase));
        return known is null || string.IsNullOrWhiteSpace(text) || text.Length > 400
            ? (null, null, $"an evidence exception needs \"Category: what happened\" (at most 400 characters), the category one of {string.Join(", ", Categories)}")
            : (known, text, null);
    }
}

/// <summary>
/// A lead's hands on the workflow, one machine or thousands at a time, each machine answered separately.
/// Every move goes through the <see cref="TransitionWriter"/>: compare-and-set, an event naming the lead, and the
/// agent command for the new step.
/// </summary>
public sealed class LeadActions(NpgsqlDataSource db, TransitionWriter writer, WorkflowKick kick)
{
    public async Task<IReadOnlyList<MachineOutcome>> ApplyAsync(LeadAction action, IReadOnlyCollection<Guid> machineIds, string? reason, Actor lead, CancellationToken ct)
    {
        if (action == LeadAction.Skip && string.IsNullOrWhiteSpace(reason))
        {
            return machineIds.Select(id => new MachineOutcome(id, false, "a skip needs a reason")).ToList();
        }

        if (action == LeadAction.EvidenceException && EvidenceExceptions.Parse(reason).Problem is { } problem)
        {
            return machineIds.Select(id => new MachineOutcome(id, false, problem)).ToList();
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var current = new Dictionary<Guid, Recovery>();
        await using (var select = new NpgsqlCommand(
            $"""
            SELECT {Recovery.Columns}
            FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id
            WHERE r.machine_id = ANY(@ids) ORDER BY r.machine_id FOR UPDATE OF r
            """, connection, transaction))
        {
            select.Parameters.AddWithValue("ids", machineIds.Distinct().ToArray());
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var recovery = Recovery.Read(reader);
                current[recovery.MachineId] = recovery;
            }
        }

        var outcomes = new Dictionary<Guid, MachineOutcome>();
        var transitions = new List<Transition>();
        foreach (var id in machineIds.Distinct())
        {
            if (!current.TryGetValue(id, out var r))
            {
                outcomes[id] = MachineOutcome.Missing(id);
                continue;
            }

            var (move, refusal) = Decide(action, r, reason);
            if (move is null)
            {
                outcomes[id] = new MachineOutcome(id, false, refusal!);
            }
            else
            {
                transitions.Add(move);
            }
        }

        var won = (await writer.WriteAsync(connection, transaction, transitions, lead, ct)).Select(t => t.MachineId).ToHashSet();
        await transaction.CommitAsync(ct);
        foreach (var t in transitions)
        {
            outcomes[t.MachineId] = won.Contains(t.MachineId)
                ? new MachineOutcome(t.MachineId, true, t.To == RecoveryState.Queued ? "requeued" : $"{t.To}{(t.Step is null ? "" : $" at {t.Step}")}")
                : new MachineOutcome(t.MachineId, false, "moved by someone else meanwhile; look again");
        }

        if (won.Count > 0)
        {
            kick.Kick();
        }

        return machineIds.Distinct().Select(id => outcomes[id]).ToList();
    }

    private static (Transition? Move, string? Refusal) Decide(LeadAction action, Recovery r, string? reason)
    {
        var why = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        switch (action)
        {
            case LeadAction.Retry when r.State is RecoveryState.Failed or RecoveryState.InProgress && r.Step is { } step:
                return (new Transition(r.MachineId, r.Version, r.Path, r.State, RecoveryState.InProgress, step, r.Attempt + 1, r.WaveId,
                    Detail: $"lead retried {step}" + (why is null ? "" : $": {why}")), null);
            case LeadAction.Retry:
                return (null, $"only a failed machine or one in a step can be retried; this one is {r.State}");

            case LeadAction.Skip when r.Step == Step.RemoveDrive:
                return (null, "RemoveDrive cannot be skipped: the removed drive is evidence. If there is no drive to keep, record an evidence exception");
            case LeadAction.Skip when r.State is RecoveryState.Failed or RecoveryState.InProgress && r.Step is { } step:
                var next = RecoveryPaths.Next(r.Path, step, r.RemoteBoot);
                if (step == Step.Verify || next is null)
                {
                    return (null, "verification cannot be skipped: Restored needs a positive verification");
                }

                return (new Transition(r.MachineId, r.Version, r.Path, r.State, RecoveryState.InProgress, next.Step, 1, r.WaveId,
                    Detail: $"lead skipped {step}: {why}"), null);
            case LeadAction.Skip:
                return (null, $"only a failed machine or one in a step can skip it; this one is {r.State}");

            case LeadAction.EvidenceException when r.State is RecoveryState.Failed or RecoveryState.InProgress && r.Step == Step.RemoveDrive:
                var (category, text, _) = EvidenceExceptions.Parse(reason);
                var after = RecoveryPaths.Next(r.Path, Step.RemoveDrive, r.RemoteBoot)!;
                return (new Transition(r.MachineId, r.Version, r.Path, r.State, RecoveryState.InProgress, after.Step, 1, r.WaveId,
                    Detail: $"{EvidenceExceptions.DetailPrefix}{category}: {text}"), null);
            case LeadAction.EvidenceException:
                return (null, $"an evidence exception is for a machine at RemoveDrive; this one is {r.State}{(r.Step is null ? "" : $" at {r.Step}")}");

            case LeadAction.Requeue when r.State is RecoveryState.Failed or RecoveryState.Quarantined && r.WaveId is not null:
                return (new Transition(r.MachineId, r.Version, r.Path, r.State, RecoveryState.Queued, null, 0, r.WaveId,
                    Detail: "lead requeued the machine" + (why is null ? "" : $": {why}")), null);
            case LeadAction.Requeue:
                return (null, r.WaveId is null ? "the machine is in no wave" : $"only a failed or quarantined machine can be requeued; this one is {r.State}");

            default:
                return (null, $"unknown action {action}");
        }
    }
}
