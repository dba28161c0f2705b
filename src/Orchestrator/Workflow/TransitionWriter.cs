using Npgsql;
using NpgsqlTypes;
using Reimage.Orchestrator.Audit;
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
    DateTimeOffset? CommandNotBefore = null,
    string? ReservePart = null,
    bool ConsumePart = false);

/// <summary>A change of who holds a machine's hands-on step (null: nobody), valid only if its version is still <see cref="ExpectedVersion"/>.</summary>
public sealed record Assignment(Guid MachineId, long ExpectedVersion, Guid? TechnicianId, string Detail);

/// <summary>
/// Who caused a batch of transitions and from where; recorded on every event. For a person, <see cref="Name"/> is the
/// signed-in account (never a name a request carries) and <see cref="Person"/> the roster entry it is linked to.
/// </summary>
public sealed record Actor(string Name, string Origin, string? Person = null)
{
    public static Actor System(string origin) => new("system", origin);

    /// <summary>How records that name a person show this one: "Noura Al-Harbi (noura.h)", or the account alone.</summary>
    public string Display => Person is null || string.Equals(Person, Name, StringComparison.OrdinalIgnoreCase) ? Name : $"{Person} ({Name})";
}

/// <summary>
/// The only writer of <c>recoveries</c>. Writes a batch of transitions as compare-and-set on each row's
/// version (a machine someone else moved is left alone), appends one event per transition that won,
/// withdraws the machine's open agent commands, issues the command for the new step when it is automated, and keeps
/// the site's spare stock in step with the machine (a part reserved on admission, consumed when fitted, released when
/// the machine leaves its path). A technician keeps a machine only while it stays at a hands-on step.
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
        var (won, parts) = await MoveAndRecordAsync(connection, transaction, transitions, actor, now, ct);
        if (won.Count == 0)
        {
            return [];
        }

        await IssueCommandsAsync(connection, transaction, won, now, ct);
        await UpdateStockAsync(connection, transaction, won, parts, ct);
        foreach (var group in won.GroupBy(t => t.To))
        {
            ReimageMetrics.Transitions.Add(group.Count(), new KeyValuePair<string, object?>("to_state", group.Key.ToString()));
        }

        return won;
    }

    /// <summary>
    /// One statement: compare-and-set each recovery on its version, and for each that moved append the event that
    /// says so to the machine's chain (<see cref="AuditChain.Append"/>).
    /// </summary>
    private static async Task<(List<Transition> Won, Dictionary<Guid, (Guid SiteId, string? HeldPart)> Parts)> MoveAndRecordAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<Transition> transitions, Actor actor, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"""
            WITH t AS (
                SELECT t.*, 'transition' AS kind, t.state AS to_state, NULL::text AS time_zone
                FROM unnest(@ids, @versions, @states, @steps, @attempts, @waves, @reasons, @from, @details, @reserve, @consume)
                    AS t(machine_id, expected_version, state, step, attempt, wave_id, reason, from_state, detail, reserve_part, consume_part)),
            held AS (
                SELECT r.machine_id, r.reserved_part, m.site_id
                FROM t JOIN reimage.recoveries r ON r.machine_id = t.machine_id JOIN reimage.machines m ON m.id = r.machine_id),
            {AuditChain.Append("t",
                set: """
                    state = e.state, step = e.step, attempt = e.attempt, wave_id = e.wave_id, failure_reason = e.reason,
                    failures = r.failures + CASE WHEN e.state IN ('Failed', 'Quarantined') THEN 1 ELSE 0 END,
                    step_started_at = CASE WHEN e.step IS NULL THEN NULL ELSE @now END,
                    state_changed_at = @now,
                    technician_id = CASE WHEN e.state = 'InProgress' AND e.step = ANY(@handsOn) THEN r.technician_id END,
                    reserved_part = CASE WHEN e.reserve_part IS NOT NULL THEN e.reserve_part
                                         WHEN e.consume_part OR e.state <> 'InProgress' THEN NULL ELSE r.reserved_part END,
                    """,
                guard: "r.version = e.expected_version")}
            SELECT a.machine_id, h.site_id, h.reserved_part FROM appended a JOIN held h ON h.machine_id = a.machine_id
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
        command.Parameters.Add(TextArray("reserve", transitions.Select(t => t.ReservePart)));
        command.Parameters.AddWithValue("consume", transitions.Select(t => t.ConsumePart).ToArray());
        command.Parameters.AddWithValue("handsOn", RecoveryPaths.HandsOnSteps.ToArray());

        var winners = new Dictionary<Guid, (Guid SiteId, string? HeldPart)>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                winners[reader.GetGuid(0)] = (reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetString(2));
            }
        }

        return (transitions.Where(t => winners.ContainsKey(t.MachineId)).ToList(), winners);
    }

    /// <summary>
    /// Reserves, consumes and releases spare parts for the machines that moved, summed per site and part in one
    /// statement. A part fitted without a reservation (a lead retried the step) still leaves the shelf.
    /// </summary>
    private static async Task UpdateStockAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<Transition> won, Dictionary<Guid, (Guid SiteId, string? HeldPart)> parts, CancellationToken ct)
    {
        var changes = new Dictionary<(Guid Site, string Item), (int OnHand, int Reserved)>();
        void Add(Guid site, string item, int onHand, int reserved)
        {
            var c = changes.GetValueOrDefault((site, item));
            changes[(site, item)] = (c.OnHand + onHand, c.Reserved + reserved);
        }

        foreach (var t in won)
        {
            var (site, held) = parts[t.MachineId];
            if (t.ReservePart is not null)
            {
                if (held is not null)
                {
                    Add(site, held, 0, -1);
                }

                Add(site, t.ReservePart, 0, 1);
            }
            else if (t.ConsumePart)
            {
                if (held is not null)
                {
                    Add(site, held, -1, -1);
                }
            }
            else if (held is not null && t.To != RecoveryState.InProgress)
            {
                Add(site, held, 0, -1);
            }
        }

        if (changes.Count == 0)
        {
            return;
        }

        await using var update = new NpgsqlCommand(
            """
            UPDATE reimage.spare_stock s
            SET on_hand = greatest(s.on_hand + c.on_hand, 0), reserved = greatest(s.reserved + c.reserved, 0)
            FROM unnest(@sites, @items, @onHand, @reserved) AS c(site_id, item, on_hand, reserved)
            WHERE s.site_id = c.site_id AND s.item = c.item
            """, connection, transaction);
        update.Parameters.AddWithValue("sites", changes.Keys.Select(k => k.Site).ToArray());
        update.Parameters.AddWithValue("items", changes.Keys.Select(k => k.Item).ToArray());
        update.Parameters.AddWithValue("onHand", changes.Values.Select(v => v.OnHand).ToArray());
        update.Parameters.AddWithValue("reserved", changes.Values.Select(v => v.Reserved).ToArray());
        await update.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Gives machines' hands-on steps to technicians (or takes them back), compare-and-set on the version like a
    /// transition, each change recorded as an <c>assignment</c> event in the machine's chain.
    /// </summary>
    public async Task<IReadOnlyList<Assignment>> AssignAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<Assignment> assignments, Actor actor, CancellationToken ct)
    {
        if (assignments.Count == 0)
        {
            return [];
        }

        await using var command = new NpgsqlCommand(
            $"""
            WITH a AS (
                SELECT a.*, 'assignment' AS kind, r.state AS from_state, r.state AS to_state, r.step, NULL::text AS time_zone
                FROM unnest(@ids, @versions, @technicians, @details) AS a(machine_id, expected_version, technician_id, detail)
                JOIN reimage.recoveries r ON r.machine_id = a.machine_id),
            {AuditChain.Append("a", set: "technician_id = e.technician_id,", guard: "r.version = e.expected_version")}
            SELECT machine_id FROM appended
            """, connection, transaction);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("actor", actor.Name);
        command.Parameters.AddWithValue("origin", actor.Origin);
        command.Parameters.AddWithValue("ids", assignments.Select(a => a.MachineId).ToArray());
        command.Parameters.AddWithValue("versions", assignments.Select(a => a.ExpectedVersion).ToArray());
        command.Parameters.Add(new NpgsqlParameter("technicians", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = assignments.Select(a => a.TechnicianId).ToArray() });
        command.Parameters.AddWithValue("details", assignments.Select(a => a.Detail).ToArray());
        var winners = new HashSet<Guid>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                winners.Add(reader.GetGuid(0));
            }
        }

        return assignments.Where(a => winners.Contains(a.MachineId)).ToList();
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
