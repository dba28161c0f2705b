using Npgsql;
using NpgsqlTypes;
using Reimage.Orchestrator.Infrastructure;

namespace Reimage.Orchestrator.Workflow;

/// <summary>A requested move of one machine's recovery, valid only if its version is still <see cref="ExpectedVersion"/>.</summary>
public sealed record Transition(
    Guid MachineId,
    long ExpectedVersion,
    RecoveryPath Path,
    RecoveryState From,
    RecoveryState To,
    Step? Step,
    int Attempt,
    Guid? WaveId,
    string? FailureReason = null,
    string? Detail = null,
    DateTimeOffset? CommandNotBefore = null);

/// <summary>Who caused a batch of transitions and from where; recorded on every event.</summary>
public sealed record Actor(string Name, string Origin)
{
    public static Actor System(string origin) => new("system", origin);
}

/// <summary>
/// The only writer of <c>recoveries</c>. Writes a batch of transitions as compare-and-set on each row's
/// version (a machine someone else moved is left alone), appends one event per transition that won,
/// withdraws the machine's open agent commands, and issues the command for the new step when it is automated.
/// All in the caller's transaction, in a fixed number of statements whatever the batch size.
/// </summary>
public sealed class TransitionWriter(TimeProvider clock)
{
    public async Task<IReadOnlyList<Transition>> WriteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<Transition> transitions, Actor actor, CancellationToken ct)
    {
        if (transitions.Count == 0)
        {
            return [];
        }

        foreach (var t in transitions)
        {
            RecoveryTransitions.EnsureAllowed(t.From, t.To);
        }

        if (transitions.Select(t => t.MachineId).Distinct().Count() != transitions.Count)
        {
            throw new InvalidOperationException("A batch of transitions may move each machine once.");
        }

        var now = clock.GetUtcNow();
        var won = await MoveAndRecordAsync(connection, transaction, transitions, actor, now, ct);
        if (won.Count == 0)
        {
            return [];
        }

        await IssueCommandsAsync(connection, transaction, won, now, ct);
        foreach (var group in won.GroupBy(t => t.To))
        {
            ReimageMetrics.Transitions.Add(group.Count(), new KeyValuePair<string, object?>("to_state", group.Key.ToString()));
        }

        return won;
    }

    /// <summary>
    /// One statement: compare-and-set each recovery on its version, and for each that moved append the event that
    /// says so, chained to the machine's previous event (the head is read in the same snapshot the version is
    /// checked against; every append moves the version, so a head cannot change behind an unchanged version).
    /// </summary>
    private static async Task<List<Transition>> MoveAndRecordAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<Transition> transitions, Actor actor, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            """
            WITH t AS (
                SELECT * FROM unnest(@ids, @versions, @states, @steps, @attempts, @waves, @reasons, @from, @details)
                    AS t(machine_id, expected_version, state, step, attempt, wave_id, reason, from_state, detail)),
            old AS (
                SELECT r.machine_id, r.chain_head, s.time_zone
                FROM t JOIN reimage.recoveries r ON r.machine_id = t.machine_id
                JOIN reimage.machines m ON m.id = r.machine_id
                JOIN reimage.sites s ON s.id = m.site_id),
            moved AS (
                UPDATE reimage.recoveries r
                SET state = t.state, step = t.step, attempt = t.attempt, wave_id = t.wave_id, failure_reason = t.reason,
                    failures = r.failures + CASE WHEN t.state IN ('Failed', 'Quarantined') THEN 1 ELSE 0 END,
                    step_started_at = CASE WHEN t.step IS NULL THEN NULL ELSE @now END,
                    state_changed_at = @now, version = r.version + 1,
                    chain_head = reimage.event_hash(o.chain_head, r.machine_id, @now, o.time_zone, @actor, @origin, 'transition',
                        t.from_state, t.state, t.step, t.detail)
                FROM t JOIN old o ON o.machine_id = t.machine_id
                WHERE r.machine_id = t.machine_id AND r.version = t.expected_version
                RETURNING r.machine_id, r.chain_head)
            INSERT INTO reimage.machine_events (machine_id, occurred_at, time_zone, actor, origin, kind, from_state, to_state, step, detail, prev_hash, hash)
            SELECT t.machine_id, @now, o.time_zone, @actor, @origin, 'transition', t.from_state, t.state, t.step, t.detail, o.chain_head, mv.chain_head
            FROM moved mv JOIN t ON t.machine_id = mv.machine_id JOIN old o ON o.machine_id = mv.machine_id
            RETURNING machine_id
            """, connection, transaction);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("actor", actor.Name);
        command.Parameters.AddWithValue("origin", actor.Origin);
        command.Parameters.AddWithValue("ids", transitions.Select(t => t.MachineId).ToArray());
        command.Parameters.AddWithValue("versions", transitions.Select(t => t.ExpectedVersion).ToArray());
        command.Parameters.AddWithValue("states", transitions.Select(t => t.To.ToString()).ToArray());
        command.Parameters.Add(TextArray("steps", transitions.Select(t => t.Step?.ToString())));
        command.Parameters.AddWithValue("attempts", transitions.Select(t => t.Attempt).ToArray());
        command.Parameters.Add(new NpgsqlParameter("waves", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = transitions.Select(t => t.WaveId).ToArray() });
        command.Parameters.Add(TextArray("reasons", transitions.Select(t => t.FailureReason)));
        command.Parameters.AddWithValue("from", transitions.Select(t => t.From.ToString()).ToArray());
        command.Parameters.Add(TextArray("details", transitions.Select(t => t.Detail ?? t.FailureReason)));

        var winners = new HashSet<Guid>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                winners.Add(reader.GetGuid(0));
            }
        }

        return transitions.Where(t => winners.Contains(t.MachineId)).ToList();
    }

    private static NpgsqlParameter TextArray(string name, IEnumerable<string?> values) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values.ToArray() };

    private static async Task IssueCommandsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<Transition> won, DateTimeOffset now, CancellationToken ct)
    {
        // Whatever the machine was waiting for is moot once it has moved: withdraw it so no agent acts on it.
        await using (var cancel = new NpgsqlCommand(
            "UPDATE reimage.agent_commands SET status = 'Cancelled' WHERE machine_id = ANY(@ids) AND status IN ('Pending', 'Leased')",
            connection, transaction))
        {
            cancel.Parameters.AddWithValue("ids", won.Select(t => t.MachineId).ToArray());
            await cancel.ExecuteNonQueryAsync(ct);
        }

        var commands = won
            .Where(t => t.To == RecoveryState.InProgress && t.Step is not null)
            .Select(t => (Transition: t, Definition: RecoveryPaths.Definition(t.Path, t.Step!.Value)))
            .Where(c => c.Definition.Kind == StepKind.Automated)
            .ToList();
        if (commands.Count == 0)
        {
            return;
        }

        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO reimage.agent_commands (id, site_id, machine_id, kind, step, attempt, status, created_at, not_before, deliveries)
            SELECT t.id, m.site_id, t.machine_id, t.kind, t.step, t.attempt, 'Pending', @now, t.not_before, 0
            FROM unnest(@ids, @machines, @kinds, @steps, @attempts, @notBefore) AS t(id, machine_id, kind, step, attempt, not_before)
            JOIN reimage.machines m ON m.id = t.machine_id
            """, connection, transaction);
        insert.Parameters.AddWithValue("now", now);
        insert.Parameters.AddWithValue("ids", commands.Select(_ => Guid.CreateVersion7(now)).ToArray());
        insert.Parameters.AddWithValue("machines", commands.Select(c => c.Transition.MachineId).ToArray());
        insert.Parameters.AddWithValue("kinds", commands.Select(c => c.Definition.AgentCommand!).ToArray());
        insert.Parameters.AddWithValue("steps", commands.Select(c => c.Definition.Step.ToString()).ToArray());
        insert.Parameters.AddWithValue("attempts", commands.Select(c => c.Transition.Attempt).ToArray());
        insert.Parameters.AddWithValue("notBefore", commands.Select(c => c.Transition.CommandNotBefore ?? now).ToArray());
        await insert.ExecuteNonQueryAsync(ct);
    }
}
