using Microsoft.EntityFrameworkCore;
using Npgsql;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Workflow;
using Reimage.Orchestrator.HandsOn;

namespace Reimage.Orchestrator.Waves;

/// <summary>
/// A wave's life: created (Draft), filled with machines, gated on other waves, approved by a lead (who and when are
/// recorded), launched (its planned machines are queued for the dispatcher), paused (no new admissions; running
/// steps finish), resumed, or cancelled (its planned and queued machines return to NotPlanned).
/// </summary>
public sealed class WavePlanner(IDbContextFactory<ReimageDbContext> contexts, NpgsqlDataSource db, TransitionWriter writer, WorkflowKick kick, TimeProvider clock)
{
    public async Task<Wave> CreateAsync(string name, int ordinal, CancellationToken ct)
    {
        await using var context = await contexts.CreateDbContextAsync(ct);
        var wave = new Wave { Id = Guid.CreateVersion7(), Name = name, Ordinal = ordinal, CreatedAt = clock.GetUtcNow() };
        context.Waves.Add(wave);
        await context.SaveChangesAsync(ct);
        return wave;
    }

    /// <summary>
    /// Plans machines that are not yet planned into <paramref name="waveId"/>; returns how many moved. Into a wave
    /// that is already launched (or paused) they are queued straight away, so the dispatcher picks them up.
    /// </summary>
    public async Task<int> AddMachinesAsync(Guid waveId, IReadOnlyCollection<Guid> machineIds, Actor actor, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        WaveStatus status;
        await using (var wave = new NpgsqlCommand("SELECT status FROM reimage.waves WHERE id = @id FOR SHARE", connection, transaction))
        {
            wave.Parameters.AddWithValue("id", waveId);
            status = await wave.ExecuteScalarAsync(ct) is string s ? Enum.Parse<WaveStatus>(s)
                : throw new WaveRuleException($"Wave {waveId} does not exist.", notFound: true);
        }

        if (status is WaveStatus.Cancelled or WaveStatus.Completed)
        {
            throw new WaveRuleException($"Wave {waveId} is {status}; machines can no longer be added to it.");
        }

        var transitions = await MovesAsync(connection, transaction, "machine_id = ANY(@ids) AND state = 'NotPlanned'", new("ids", machineIds.ToArray()),
            (machine, version, path, _) => new Transition(machine, version, path, RecoveryState.NotPlanned, RecoveryState.Planned, null, 0, waveId, Detail: "planned into wave"), ct);
        var won = await writer.WriteAsync(connection, transaction, transitions, actor, ct);
        if (status is WaveStatus.Launched or WaveStatus.Paused)
        {
            await writer.WriteAsync(connection, transaction,
                won.Select(t => t with { ExpectedVersion = t.ExpectedVersion + 1, From = RecoveryState.Planned, To = RecoveryState.Queued, Detail = "wave already launched" }).ToList(),
                actor, ct);
        }

        await transaction.CommitAsync(ct);
        if (status == WaveStatus.Launched && won.Count > 0)
        {
            kick.Kick();
        }

        return won.Count;
    }

    /// <summary>
    /// Moves machines that have not started yet (planned, queued or awaiting parts, in any wave) into
    /// <paramref name="waveId"/>: planned there, or queued straight away when it is launched or paused. A machine already in
    /// work, finished or failed stays where it is; each machine gets its own answer.
    /// </summary>
    public async Task<IReadOnlyList<MachineOutcome>> MoveMachinesAsync(Guid waveId, IReadOnlyCollection<Guid> machineIds, Actor actor, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        string name;
        WaveStatus status;
        await using (var wave = new NpgsqlCommand("SELECT name, status FROM reimage.waves WHERE id = @id FOR SHARE", connection, transaction))
        {
            wave.Parameters.AddWithValue("id", waveId);
            await using var reader = await wave.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                throw new WaveRuleException($"Wave {waveId} does not exist.", notFound: true);
            }

            (name, status) = (reader.GetString(0), Enum.Parse<WaveStatus>(reader.GetString(1)));
        }

        if (status is WaveStatus.Cancelled or WaveStatus.Completed)
        {
            throw new WaveRuleException($"Wave \"{name}\" is {status}; machines can no longer be moved into it.");
        }

        var to = status is WaveStatus.Launched or WaveStatus.Paused ? RecoveryState.Queued : RecoveryState.Planned;
        var ids = machineIds.Distinct().ToArray();
        var found = new Dictionary<Guid, (long Version, RecoveryPath Path, RecoveryState State, Guid? WaveId)>();
        await using (var select = new NpgsqlCommand(
            "SELECT machine_id, version, path, state, wave_id FROM reimage.recoveries WHERE machine_id = ANY(@ids) ORDER BY machine_id FOR UPDATE", connection, transaction))
        {
            select.Parameters.AddWithValue("ids", ids);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                found[reader.GetGuid(0)] = (reader.GetInt64(1), Enum.Parse<RecoveryPath>(reader.GetString(2)), Enum.Parse<RecoveryState>(reader.GetString(3)),
                    reader.IsDBNull(4) ? null : reader.GetGuid(4));
            }
        }

        var outcomes = new Dictionary<Guid, MachineOutcome>();
        var moves = new List<Transition>();
        foreach (var id in ids)
        {
            if (!found.TryGetValue(id, out var r))
            {
                outcomes[id] = MachineOutcome.Missing(id);
            }
            else if (r.WaveId == waveId)
            {
                outcomes[id] = new MachineOutcome(id, true, $"already in {name}");
            }
            else if (r.State is not (RecoveryState.Planned or RecoveryState.Queued or RecoveryState.AwaitingParts))
            {
                outcomes[id] = new MachineOutcome(id, false, $"the machine is {r.State}; only machines that have not started can move to another wave");
            }
            else
            {
                moves.Add(new Transition(id, r.Version, r.Path, r.State, to, null, 0, waveId, Detail: $"moved to wave {name}"));
            }
        }

        var won = (await writer.WriteAsync(connection, transaction, moves, actor, ct)).Select(t => t.MachineId).ToHashSet();
        await transaction.CommitAsync(ct);
        foreach (var m in moves)
        {
            outcomes[m.MachineId] = won.Contains(m.MachineId)
                ? new MachineOutcome(m.MachineId, true, $"moved to {name} ({to})")
                : new MachineOutcome(m.MachineId, false, "moved by someone else meanwhile; look again");
        }

        if (to == RecoveryState.Queued && won.Count > 0)
        {
            kick.Kick();
        }

        return ids.Select(id => outcomes[id]).ToList();
    }

    /// <summary>Records a lead's approval; only a Draft wave can be approved.</summary>
    public async Task ApproveAsync(Guid waveId, Actor lead, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await ChangeStatusAsync(connection, null, waveId, [WaveStatus.Draft], WaveStatus.Approved, ", approved_by = @who, approved_at = @now", lead, ct);
    }

    /// <summary>Launches an approved wave: its planned machines are queued for the dispatcher, which admits them as capacity and gates allow.</summary>
    public async Task<int> LaunchAsync(Guid waveId, Actor actor, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await ChangeStatusAsync(connection, transaction, waveId, [WaveStatus.Approved], WaveStatus.Launched, ", launched_at = @now", actor, ct);
        var transitions = await MovesAsync(connection, transaction, "wave_id = @id AND state = 'Planned'", new("id", waveId),
            (machine, version, path, _) => new Transition(machine, version, path, RecoveryState.Planned, RecoveryState.Queued, null, 0, waveId, Detail: "wave launched"), ct);
        var won = await writer.WriteAsync(connection, transaction, transitions, actor, ct);
        await transaction.CommitAsync(ct);
        kick.Kick();
        return won.Count;
    }

    /// <summary>Stops admitting the wave's machines; those already in a step carry on.</summary>
    public async Task PauseAsync(Guid waveId, Actor actor, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await ChangeStatusAsync(connection, null, waveId, [WaveStatus.Launched], WaveStatus.Paused, "", actor, ct);
    }

    public async Task ResumeAsync(Guid waveId, Actor actor, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await ChangeStatusAsync(connection, null, waveId, [WaveStatus.Paused], WaveStatus.Launched, "", actor, ct);
        kick.Kick();
    }

    /// <summary>Cancels the wave: its planned and queued machines return to NotPlanned; machines already in a step finish it.</summary>
    /// <summary>How many machines cancelling the wave would send back to Not planned now (what a lead must confirm).</summary>
    public async Task<int> CancelCountAsync(Guid waveId, CancellationToken ct)
    {
        await using var command = db.CreateCommand($"SELECT count(*) FROM reimage.recoveries WHERE {CancelledStates}");
        command.Parameters.AddWithValue("id", waveId);
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    private const string CancelledStates = "wave_id = @id AND state IN ('Planned', 'Queued', 'AwaitingParts')";

    /// <summary>
    /// Cancels the wave: its machines not yet started go back to Not planned (running ones finish). Destructive, so
    /// the caller confirms how many machines it expects to send back (<see cref="CancelCountAsync"/>); when that is no
    /// longer the count (the wave moved meanwhile), nothing changes and the refusal says the count to confirm.
    /// </summary>
    public async Task<int> CancelAsync(Guid waveId, int confirmedMachines, Actor actor, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await ChangeStatusAsync(connection, transaction, waveId, [WaveStatus.Draft, WaveStatus.Approved, WaveStatus.Launched, WaveStatus.Paused], WaveStatus.Cancelled, "", actor, ct);
        var transitions = await MovesAsync(connection, transaction, CancelledStates, new("id", waveId),
            (machine, version, path, state) => new Transition(machine, version, path, state, RecoveryState.NotPlanned, null, 0, null, Detail: "wave cancelled"), ct);
        if (transitions.Count != confirmedMachines)
        {
            await transaction.RollbackAsync(ct);
            throw new WaveRuleException(
                $"Cancelling this wave sends {transitions.Count} machine{(transitions.Count == 1 ? "" : "s")} back to Not planned, not {confirmedMachines}: confirm {transitions.Count} to cancel it.");
        }

        var won = await writer.WriteAsync(connection, transaction, transitions, actor, ct);
        await transaction.CommitAsync(ct);
        return won.Count;
    }

    /// <summary>
    /// Makes <paramref name="waveId"/> wait until <paramref name="restoredPercent"/> % of <paramref name="dependsOnWaveId"/>
    /// is Restored. Replaces an existing gate between the same waves; refuses self-dependencies and cycles.
    /// </summary>
    public async Task SetGateAsync(Guid waveId, Guid dependsOnWaveId, int restoredPercent, CancellationToken ct)
    {
        if (restoredPercent is < 1 or > 100)
        {
            throw new WaveRuleException($"A gate's restored percentage must be between 1 and 100, not {restoredPercent}.");
        }

        if (waveId == dependsOnWaveId)
        {
            throw new WaveRuleException("A wave cannot wait for itself.");
        }

        await using var context = await contexts.CreateDbContextAsync(ct);
        var waves = await context.Waves.Where(w => w.Id == waveId || w.Id == dependsOnWaveId).Select(w => w.Id).ToListAsync(ct);
        if (waves.Count != 2)
        {
            throw new WaveRuleException("Both waves must exist.", notFound: true);
        }

        // A cycle would block both waves for ever: refuse a gate whose prerequisite already (transitively) waits for this wave.
        var gates = await context.WaveGates.AsNoTracking().ToListAsync(ct);
        var waiting = new Stack<Guid>([dependsOnWaveId]);
        var visited = new HashSet<Guid>();
        while (waiting.TryPop(out var current))
        {
            if (current == waveId)
            {
                throw new WaveRuleException("That gate would make the waves wait for each other.");
            }

            foreach (var next in gates.Where(g => g.WaveId == current && visited.Add(g.DependsOnWaveId)))
            {
                waiting.Push(next.DependsOnWaveId);
            }
        }

        var existing = await context.WaveGates.FindAsync([waveId, dependsOnWaveId], ct);
        if (existing is null)
        {
            context.WaveGates.Add(new WaveGate { WaveId = waveId, DependsOnWaveId = dependsOnWaveId, RestoredPercent = restoredPercent });
        }
        else
        {
            existing.RestoredPercent = restoredPercent;
        }

        await context.SaveChangesAsync(ct);
        kick.Kick();
    }

    private async Task ChangeStatusAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid waveId,
        WaveStatus[] from, WaveStatus to, string extraSet, Actor actor, CancellationToken ct)
    {
        await using var change = new NpgsqlCommand(
            $"UPDATE reimage.waves SET status = @to{extraSet} WHERE id = @id AND status = ANY(@from)", connection, transaction);
        change.Parameters.AddWithValue("id", waveId);
        change.Parameters.AddWithValue("to", to.ToString());
        change.Parameters.AddWithValue("from", from.Select(f => f.ToString()).ToArray());
        change.Parameters.AddWithValue("now", clock.GetUtcNow());
        change.Parameters.AddWithValue("who", actor.Name);
        if (await change.ExecuteNonQueryAsync(ct) == 1)
        {
            return;
        }

        await using var current = new NpgsqlCommand("SELECT name, status FROM reimage.waves WHERE id = @id", connection, transaction);
        current.Parameters.AddWithValue("id", waveId);
        await using var reader = await current.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            throw new WaveRuleException($"Wave {waveId} does not exist.", notFound: true);
        }

        throw new WaveRuleException($"Wave \"{reader.GetString(0)}\" is {reader.GetString(1)}; it must be {string.Join(" or ", from)} to become {to}.");
    }

    /// <summary>Reads the recoveries matching <paramref name="where"/> and turns each into the transition <paramref name="move"/> makes of it.</summary>
    private static async Task<List<Transition>> MovesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string where,
        NpgsqlParameter parameter, Func<Guid, long, RecoveryPath, RecoveryState, Transition> move, CancellationToken ct)
    {
        await using var select = new NpgsqlCommand($"SELECT machine_id, version, path, state FROM reimage.recoveries WHERE {where}", connection, transaction);
        select.Parameters.Add(parameter);
        var transitions = new List<Transition>();
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            transitions.Add(move(reader.GetGuid(0), reader.GetInt64(1), Enum.Parse<RecoveryPath>(reader.GetString(2)), Enum.Parse<RecoveryState>(reader.GetString(3))));
        }

        return transitions;
    }
}

/// <summary>A wave action that the wave's current status or the plan does not allow; the message says why.</summary>
public sealed class WaveRuleException(string message, bool notFound = false) : Exception(message)
{
    public bool NotFound { get; } = notFound;
}
