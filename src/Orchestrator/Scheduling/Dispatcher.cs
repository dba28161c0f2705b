using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;
using Reimage.Orchestrator.HandsOn;

namespace Reimage.Orchestrator.Scheduling;

/// <summary>
/// The live dispatcher: reads a snapshot of capacity (free slots, technicians on shift, spare parts) and of the queue,
/// lets <see cref="SchedulingPolicy"/> decide, and writes the decision through the <see cref="TransitionWriter"/>:
/// admissions (with their part reserved), machines now awaiting parts (and the alert that says so), and technician
/// assignments for hands-on steps. One round runs under an advisory lock, so two nodes never double-book a slot.
/// </summary>
public sealed class Dispatcher(NpgsqlDataSource db, TransitionWriter writer, IOptions<WorkflowOptions> options, TimeProvider clock, ILogger<Dispatcher> logger)
{
    private const long DispatchLockKey = 0x5245494D41474501; // "REIMAGE" + 1

    /// <summary>Runs one round; returns how many machines were admitted.</summary>
    public async Task<int> DispatchAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var gate = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
        {
            gate.Parameters.AddWithValue("key", DispatchLockKey);
            await gate.ExecuteNonQueryAsync(ct);
        }

        var now = clock.GetUtcNow();
        var snapshot = await CapacitySnapshot.ReadAsync(connection, transaction, now, ct);
        var candidates = await ReadCandidatesAsync(connection, transaction, snapshot, ct);
        var plan = SchedulingPolicy.Admit(snapshot.Sites, candidates.Select(c => c.Candidate), options.Value.BatchSize);

        var byId = candidates.ToDictionary(c => c.Candidate.MachineId);
        var transitions = plan.Admitted.Select(c => byId[c.MachineId]).Select(q => new Transition(
                q.Candidate.MachineId, q.Version, q.Path, q.State, RecoveryState.InProgress, RecoveryPaths.First(q.Path, q.RemoteBoot).Step, 1, q.WaveId,
                Detail: q.Candidate.Part is null ? "admitted" : $"admitted; spare {q.Candidate.Part} reserved", ReservePart: q.Candidate.Part))
            .Concat(plan.NowAwaitingParts.Select(c => byId[c.MachineId]).Select(q => new Transition(
                q.Candidate.MachineId, q.Version, q.Path, q.State, RecoveryState.AwaitingParts, null, 0, q.WaveId,
                Detail: $"its turn came but no spare {q.Candidate.Part} is left at the site")))
            .ToList();
        var won = await writer.WriteAsync(connection, transaction, transitions, Actor.System("dispatcher"), ct);
        await RaiseAndResolveAlertsAsync(connection, transaction, snapshot, won.Where(t => t.To == RecoveryState.AwaitingParts).Select(t => byId[t.MachineId].Candidate), now, ct);
        await AssignAsync(connection, transaction, snapshot, ct);
        await transaction.CommitAsync(ct);

        var admitted = won.Count(t => t.To == RecoveryState.InProgress);
        if (admitted > 0)
        {
            logger.LogDebug("Admitted {Count} machines", admitted);
        }

        return admitted;
    }

    private sealed record Queued(Candidate Candidate, long Version, RecoveryPath Path, RecoveryState State, Guid WaveId, bool RemoteBoot);

    /// <summary>
    /// The queue of launched waves whose gates are met, cut to what the policy can possibly use: candidates with the
    /// same needs (site, technician or not, part) are interchangeable to the policy, which takes them in order, so no more
    /// than the site's free slots of each such group can be admitted in a round. The cut keeps a round's cost bounded
    /// by capacity, not by the length of the queue. Ordering matches <see cref="SchedulingPolicy.InPolicyOrder"/>.
    /// </summary>
    private static async Task<List<Queued>> ReadCandidatesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CapacitySnapshot snapshot, CancellationToken ct)
    {
        var open = snapshot.Sites.Where(s => s.FreeSlots > 0).ToList();
        if (open.Count == 0)
        {
            return [];
        }

        await using var select = new NpgsqlCommand(
            $"""
            WITH progress AS (
                -- A finished machine (restored, or skipped or decommissioned by a lead) no longer holds the next wave back; a failed one does, until a lead decides.
                SELECT wave_id, 100.0 * count(*) FILTER (WHERE state = ANY(@final)) / count(*) AS restored_percent
                FROM reimage.recoveries WHERE wave_id IN (SELECT depends_on_wave_id FROM reimage.wave_gates)
                GROUP BY wave_id),
            open_waves AS (
                SELECT w.id, w.ordinal FROM reimage.waves w
                WHERE w.status = 'Launched' AND NOT EXISTS (
                    SELECT 1 FROM reimage.wave_gates g LEFT JOIN progress p ON p.wave_id = g.depends_on_wave_id
                    WHERE g.wave_id = w.id AND coalesce(p.restored_percent, 100) < g.restored_percent)), -- an empty prerequisite wave holds nobody back
            free AS (SELECT * FROM unnest(@sites, @slots) AS f(site_id, slots)),
            candidates AS (
                SELECT r.machine_id, r.version, r.path, r.state, r.wave_id, m.site_id, w.ordinal, m.criticality, m.building, m.floor, m.hostname,
                       {RecoveryPaths.CanBootRemotelySql} AS remote_boot,
                       CASE WHEN r.path = 'DriveReplacement' THEN coalesce(m.disk_type, @unspecified) END AS part
                FROM reimage.recoveries r
                JOIN reimage.machines m ON m.id = r.machine_id
                JOIN open_waves w ON w.id = r.wave_id
                WHERE r.state IN ('Queued', 'AwaitingParts') AND m.site_id = ANY(@sites)),
            ranked AS (
                SELECT c.*, row_number() OVER (
                    PARTITION BY c.site_id, (c.path = 'DriveReplacement' OR NOT c.remote_boot), c.part
                    ORDER BY c.ordinal, c.criticality, c.building COLLATE "C" NULLS FIRST, c.floor COLLATE "C" NULLS FIRST, c.hostname COLLATE "C") AS rank
                FROM candidates c)
            SELECT ranked.machine_id, ranked.version, ranked.path, ranked.state, ranked.wave_id, ranked.site_id, ranked.ordinal, ranked.criticality,
                   ranked.building, ranked.floor, ranked.hostname, ranked.remote_boot, ranked.part
            FROM ranked JOIN free ON free.site_id = ranked.site_id
            WHERE ranked.rank <= free.slots
            """, connection, transaction);
        select.Parameters.AddWithValue("sites", open.Select(s => s.SiteId).ToArray());
        select.Parameters.AddWithValue("slots", open.Select(s => s.FreeSlots).ToArray());
        select.Parameters.AddWithValue("unspecified", UnspecifiedDrive);
        select.Parameters.AddWithValue("final", FinalStates);
        var queue = new List<Queued>();
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var path = Enum.Parse<RecoveryPath>(reader.GetString(2));
            var state = Enum.Parse<RecoveryState>(reader.GetString(3));
            var remoteBoot = reader.GetBoolean(11);
            var part = reader.IsDBNull(12) ? null : reader.GetString(12);
            var candidate = new Candidate(reader.GetGuid(0), reader.GetGuid(5), reader.GetInt32(6), reader.GetInt32(7),
                reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9), reader.GetString(10),
                NeedsTechnician: RecoveryPaths.First(path, remoteBoot).Kind == StepKind.HandsOn, part, state == RecoveryState.AwaitingParts);
            queue.Add(new Queued(candidate, reader.GetInt64(1), path, state, reader.GetGuid(4), remoteBoot));
        }

        return queue;
    }

    private static readonly string[] FinalStates = Enum.GetValues<RecoveryState>().Where(RecoveryTransitions.IsFinal).Select(s => s.ToString()).ToArray();

    /// <summary>The part a drive replacement needs when the inventory does not say which drive the machine takes.</summary>
    public const string UnspecifiedDrive = "unspecified";

    private async Task RaiseAndResolveAlertsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CapacitySnapshot snapshot,
        IEnumerable<Candidate> nowAwaiting, DateTimeOffset now, CancellationToken ct)
    {
        var raised = nowAwaiting.GroupBy(c => (c.SiteId, c.Part!)).ToList();
        foreach (var group in raised)
        {
            logger.LogWarning("Site {Site} is out of spare {Part}: {Count} more machines now await parts", snapshot.SiteCode(group.Key.SiteId), group.Key.Item2, group.Count());
        }

        await using var command = new NpgsqlCommand(
            """
            INSERT INTO reimage.alerts (site_id, kind, subject, message, raised_at)
            SELECT a.site_id, 'awaiting-parts', a.part, 'Machines are waiting for a spare ' || a.part || '; record a delivery to let them start.', @now
            FROM unnest(@sites, @parts) AS a(site_id, part)
            ON CONFLICT (site_id, kind, subject) WHERE resolved_at IS NULL DO NOTHING;

            UPDATE reimage.alerts a SET resolved_at = @now
            WHERE a.kind = 'awaiting-parts' AND a.resolved_at IS NULL AND NOT EXISTS (
                SELECT 1 FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id
                WHERE r.state = 'AwaitingParts' AND m.site_id = a.site_id AND coalesce(m.disk_type, @unspecified) = a.subject);
            """, connection, transaction);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("sites", raised.Select(g => g.Key.SiteId).ToArray());
        command.Parameters.AddWithValue("parts", raised.Select(g => g.Key.Item2).ToArray());
        command.Parameters.AddWithValue("unspecified", UnspecifiedDrive);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Gives unassigned hands-on steps, and those held by a technician now off shift, to technicians on shift.</summary>
    private async Task AssignAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CapacitySnapshot snapshot, CancellationToken ct)
    {
        var work = await HandsOnQueue.ReadAsync(connection, transaction, null, ct);
        var onShift = snapshot.OnShift.ToDictionary(t => t.Id);
        var loads = snapshot.OnShift.Select(t => new TechnicianLoad(t.Id, t.SiteId, t.Building,
            work.Count(w => w.TechnicianId == t.Id), t.Capacity,
            work.Where(w => w.TechnicianId == t.Id).Select(w => (w.Building, w.Floor)).Distinct().ToList()));
        var open = work.Where(w => w.TechnicianId is null || !onShift.ContainsKey(w.TechnicianId.Value)).ToDictionary(w => w.MachineId);
        if (open.Count == 0)
        {
            return;
        }

        var assignments = SchedulingPolicy.Assign(open.Values.Select(w => w.Work), loads)
            .Select(a =>
            {
                var w = open[a.MachineId];
                var to = onShift[a.TechnicianId].Name;
                return new Assignment(a.MachineId, w.Version, a.TechnicianId,
                    w.TechnicianId is null ? $"assigned to {to}" : $"reassigned to {to}: {w.TechnicianName} is off shift");
            })
            .ToList();
        await writer.AssignAsync(connection, transaction, assignments, Actor.System("dispatcher"), ct);
    }
}
