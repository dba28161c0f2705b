using Npgsql;
using Reimage.Orchestrator.Scheduling;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.HandsOn;

/// <summary>A technician's queue entry, in walking order.</summary>
public sealed record QueueEntry(Guid MachineId, string Hostname, string? AssetTag, string? Building, string? Floor, string? Room, Step Step);

/// <summary>
/// People's hands on the assignment of hands-on steps: a technician claims a machine or releases it (the dispatcher
/// then gives it to someone else on shift), a lead reassigns it. Each change is compare-and-set and recorded in the
/// machine's audit chain with who did it.
/// </summary>
public sealed class TechnicianWork(NpgsqlDataSource db, TransitionWriter writer, WorkflowKick kick)
{
    /// <summary>The technician's queue, in walking order (building, floor, room).</summary>
    public async Task<IReadOnlyList<QueueEntry>> QueueAsync(Guid technicianId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var items = await HandsOnQueue.ReadAsync(connection, null, technicianId, ct);
        var byId = items.ToDictionary(i => i.MachineId);
        return SchedulingPolicy.WalkingOrder(items.Select(i => i.Work))
            .Select(w => new QueueEntry(w.MachineId, w.Hostname, byId[w.MachineId].AssetTag, w.Building, w.Floor, w.Room, byId[w.MachineId].Step))
            .ToList();
    }

    /// <summary>The technician takes the machine's hands-on step (from nobody, or from a colleague who is not at it).</summary>
    public Task<MachineOutcome> ClaimAsync(Guid machineId, Guid technicianId, Actor actor, CancellationToken ct) =>
        ChangeAsync(machineId, technicianId, requireHolder: null, actor, (from, to) => from is null ? $"claimed by {to}" : $"claimed by {to} from {from}", ct);

    /// <summary>The holder gives the machine back; the dispatcher assigns it again, to whoever is best placed.</summary>
    public async Task<MachineOutcome> ReleaseAsync(Guid machineId, Guid technicianId, Actor actor, string? reason, CancellationToken ct)
    {
        var outcome = await ChangeAsync(machineId, null, requireHolder: technicianId, actor,
            (from, _) => $"released by {from}" + (string.IsNullOrWhiteSpace(reason) ? "" : $": {reason.Trim()}"), ct);
        if (outcome.Done)
        {
            kick.Kick();
        }

        return outcome;
    }

    /// <summary>A lead moves the machine's hands-on step to another technician of its site.</summary>
    public Task<MachineOutcome> ReassignAsync(Guid machineId, Guid technicianId, Actor lead, CancellationToken ct) =>
        ChangeAsync(machineId, technicianId, requireHolder: null, lead, (from, to) => $"reassigned by {lead.Name} from {from ?? "nobody"} to {to}", ct);

    private async Task<MachineOutcome> ChangeAsync(Guid machineId, Guid? to, Guid? requireHolder, Actor actor, Func<string?, string?, string> detail, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var select = new NpgsqlCommand(
            """
            SELECT r.version, r.state, r.step, r.technician_id, holder.name, m.site_id,
                   (SELECT t.name FROM reimage.technicians t WHERE t.id = @to AND t.site_id = m.site_id AND t.active)
            FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id
            LEFT JOIN reimage.technicians holder ON holder.id = r.technician_id
            WHERE r.machine_id = @machine FOR UPDATE OF r
            """, connection, transaction);
        select.Parameters.AddWithValue("machine", machineId);
        select.Parameters.Add(new NpgsqlParameter("to", NpgsqlTypes.NpgsqlDbType.Uuid) { Value = (object?)to ?? DBNull.Value });
        long version;
        string? holderName, toName;
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct))
            {
                return MachineOutcome.Missing(machineId);
            }

            var step = reader.IsDBNull(2) ? null : reader.GetString(2);
            if (reader.GetString(1) != nameof(RecoveryState.InProgress) || !RecoveryPaths.HandsOnSteps.Contains(step))
            {
                return new MachineOutcome(machineId, false, $"the machine is not waiting for a technician (it is {reader.GetString(1)}{(step is null ? "" : $" at {step}")})");
            }

            var holder = reader.IsDBNull(3) ? (Guid?)null : reader.GetGuid(3);
            if (requireHolder is not null && holder != requireHolder)
            {
                return new MachineOutcome(machineId, false, "only the technician holding the machine can release it");
            }

            if (to is not null && reader.IsDBNull(6))
            {
                return new MachineOutcome(machineId, false, "that technician does not work at this machine's site (or is inactive)");
            }

            if (to is not null && holder == to)
            {
                return new MachineOutcome(machineId, true, "already assigned to that technician");
            }

            (version, holderName, toName) = (reader.GetInt64(0), reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(6) ? null : reader.GetString(6));
        }

        var won = await writer.AssignAsync(connection, transaction, [new Assignment(machineId, version, to, detail(holderName, toName))], actor, ct);
        await transaction.CommitAsync(ct);
        return won.Count == 1
            ? new MachineOutcome(machineId, true, to is null ? "released" : $"assigned to {toName}")
            : new MachineOutcome(machineId, false, "moved by someone else meanwhile; look again");
    }
}
