using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Reimage.Orchestrator.Workflow;

/// <summary>
/// Moves machines along their paths in batches: applies agents' results (next step, retry with backoff,
/// Restored after a positive verification, Failed past the retry limit) and sweeps step timeouts; admission is the
/// <see cref="Scheduling.Dispatcher"/>'s. Every write goes through <see cref="TransitionWriter"/>.
/// Safe to run concurrently and more than once: rows are claimed with <c>SKIP LOCKED</c> and moved in
/// the claiming transaction.
/// </summary>
public sealed class WorkflowPump(NpgsqlDataSource db, TransitionWriter writer, IOptions<WorkflowOptions> options, TimeProvider clock, ILogger<WorkflowPump> logger)
{
    /// <summary>Applies up to one batch of recorded results; returns how many results were consumed.</summary>
    public async Task<int> ApplyResultsAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        var results = new List<(Guid MachineId, string Step, int Attempt, bool Succeeded, string? Detail)>();
        await using (var claim = new NpgsqlCommand(
            """
            WITH claimed AS (
                SELECT id FROM reimage.agent_commands WHERE status = 'Completed'
                ORDER BY completed_at LIMIT @n FOR UPDATE SKIP LOCKED)
            UPDATE reimage.agent_commands c SET status = 'Applied'
            FROM claimed WHERE c.id = claimed.id
            RETURNING c.machine_id, c.step, c.attempt, c.succeeded, c.detail
            """, connection, transaction))
        {
            claim.Parameters.AddWithValue("n", options.Value.BatchSize);
            await using var reader = await claim.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                results.Add((reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), reader.GetBoolean(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
            }
        }

        if (results.Count == 0)
        {
            return 0;
        }

        var recoveries = await LoadForUpdateAsync(connection, transaction, results.Select(r => r.MachineId).Distinct().ToArray(), ct);
        var now = clock.GetUtcNow();
        // A positive verification restores a machine only if it runs the approved golden image (when its profile has one).
        var verified = results.Where(r => r.Succeeded && r.Step == nameof(Step.Verify)).Select(r => r.MachineId).ToArray();
        var wrongImage = verified.Length == 0 ? [] : await Imaging.ImageCatalog.MismatchesAsync(connection, transaction, verified, ct);
        var transitions = new List<Transition>();
        foreach (var result in results)
        {
            // A result for a step the machine has left (a lead retried or skipped it, or a duplicate) is stale.
            if (!recoveries.TryGetValue(result.MachineId, out var r) || r.State != RecoveryState.InProgress
                || r.Step?.ToString() != result.Step || r.Attempt != result.Attempt)
            {
                continue;
            }

            transitions.Add(result.Succeeded && !wrongImage.ContainsKey(r.MachineId) ? Advance(r)
                : Retry(r, result.Succeeded ? wrongImage[r.MachineId] : result.Detail, now, options.Value));
            recoveries.Remove(result.MachineId); // one move per machine per batch
        }

        await writer.WriteAsync(connection, transaction, transitions, Actor.System("workflow-pump"), ct);
        await transaction.CommitAsync(ct);
        return results.Count;
    }

    private static Transition Advance(Recovery r)
    {
        var next = RecoveryPaths.Next(r.Path, r.Step!.Value, r.RemoteBoot);
        return next is null
            ? new Transition(r.MachineId, r.Version, r.Path, r.State, RecoveryState.Restored, null, 0, r.WaveId, Detail: $"{r.Step} passed")
            : new Transition(r.MachineId, r.Version, r.Path, r.State, RecoveryState.InProgress, next.Step, 1, r.WaveId, Detail: $"{r.Step} done");
    }

    private static Transition Retry(Recovery r, string? detail, DateTimeOffset now, WorkflowOptions options)
    {
        var step = RecoveryPaths.Definition(r.Path, r.Step!.Value);
        var why = string.IsNullOrWhiteSpace(detail) ? "no detail" : detail;
        if (r.Attempt >= step.MaxAttempts)
        {
            var reason = $"{r.Step} failed {r.Attempt} times; last: {why}";
            return r.Failures + 1 >= options.QuarantineAfterFailures
                ? new Transition(r.MachineId, r.Version, r.Path, r.State, RecoveryState.Quarantined, r.Step, r.Attempt, r.WaveId,
                    FailureReason: $"quarantined after running out of retries {r.Failures + 1} times (suspect hardware); {reason}")
                : new Transition(r.MachineId, r.Version, r.Path, r.State, RecoveryState.Failed, r.Step, r.Attempt, r.WaveId, FailureReason: reason);
        }

        // Exponential backoff: base, 2 × base, 4 × base … capped at 20 × base.
        var backoff = options.RetryBackoff * Math.Min(20, Math.Pow(2, r.Attempt - 1));
        return new Transition(r.MachineId, r.Version, r.Path, r.State, RecoveryState.InProgress, r.Step, r.Attempt + 1, r.WaveId,
            Detail: $"attempt {r.Attempt} failed: {why}; retrying", CommandNotBefore: now + backoff);
    }

    /// <summary>
    /// Finds machines whose current step has outlived its timeout (the agent went quiet, the imaging run never
    /// phoned home, a technician never came) and treats each as a failed attempt: retried with backoff, or Failed past
    /// the limit. A hands-on step's time runs only while a technician of its site is on shift: a drive replacement
    /// admitted just before the shift ends waits for the morning rather than failing overnight, as the forecast assumes.
    /// A sweep over the domain table, not one delayed job per machine, in pages of a batch each (so thousands of
    /// hands-on steps waiting overnight, old but not due, never hide a due step behind them). Returns how many machines it moved.
    /// </summary>
    public async Task<int> SweepTimeoutsAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var (moved, after) = (0, Guid.Empty);
        while (true)
        {
            var (won, last, full) = await SweepPageAsync(now, after, ct);
            moved += won;
            if (!full)
            {
                return moved;
            }

            after = last;
        }
    }

    private async Task<(int Moved, Guid Last, bool Full)> SweepPageAsync(DateTimeOffset now, Guid after, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var candidates = new List<(Recovery Recovery, DateTimeOffset StartedAt, Guid SiteId, string TimeZone)>();
        await using (var select = new NpgsqlCommand(
            $"""
            SELECT {Recovery.Columns}, r.step_started_at, m.site_id, s.time_zone
            FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id JOIN reimage.sites s ON s.id = m.site_id
            WHERE r.state = 'InProgress' AND r.step_started_at < @oldest AND r.machine_id > @after
            ORDER BY r.machine_id
            LIMIT @n
            FOR UPDATE OF r SKIP LOCKED
            """, connection, transaction))
        {
            select.Parameters.AddWithValue("oldest", now - RecoveryPaths.ShortestTimeout);
            select.Parameters.AddWithValue("after", after);
            select.Parameters.AddWithValue("n", options.Value.BatchSize);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                candidates.Add((Recovery.Read(reader), reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("step_started_at")),
                    reader.GetGuid(reader.GetOrdinal("site_id")), reader.GetString(reader.GetOrdinal("time_zone"))));
            }
        }

        var rosters = await RostersAsync(connection, transaction,
            [.. candidates.Where(c => Definition(c.Recovery).Kind == StepKind.HandsOn).Select(c => c.SiteId).Distinct()], ct);
        TimeSpan Age((Recovery Recovery, DateTimeOffset StartedAt, Guid SiteId, string TimeZone) c) =>
            Definition(c.Recovery).Kind != StepKind.HandsOn ? now - c.StartedAt
                : Sites.Shift.CoveredBetween(rosters[c.SiteId], Scheduling.CapacitySnapshot.Zone(c.TimeZone), c.StartedAt, now);
        var transitions = candidates
            .Where(c => Age(c) > Definition(c.Recovery).Timeout)
            .Select(c => Retry(c.Recovery, $"timed out after {Definition(c.Recovery).Timeout:g}", now, options.Value))
            .ToList();
        var won = await writer.WriteAsync(connection, transaction, transitions, Actor.System("timeout-sweeper"), ct);
        await transaction.CommitAsync(ct);
        if (won.Count > 0)
        {
            logger.LogWarning("{Count} machines timed out in their current step", won.Count);
        }

        return (won.Count, candidates.Count == 0 ? after : candidates[^1].Recovery.MachineId, candidates.Count == options.Value.BatchSize);
    }

    private static StepDefinition Definition(Recovery r) => RecoveryPaths.Definition(r.Path, r.Step!.Value);

    /// <summary>The shifts of the active technicians of each site (an empty roster for a site with none).</summary>
    private static async Task<Dictionary<Guid, List<(Sites.ShiftDays, TimeOnly, TimeOnly)>>> RostersAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid[] siteIds, CancellationToken ct)
    {
        var rosters = siteIds.ToDictionary(s => s, _ => new List<(Sites.ShiftDays, TimeOnly, TimeOnly)>());
        if (siteIds.Length == 0)
        {
            return rosters;
        }

        await using var select = new NpgsqlCommand(
            """
            SELECT t.site_id, sh.days, sh.starts, sh.ends
            FROM reimage.technicians t JOIN reimage.shifts sh ON sh.technician_id = t.id
            WHERE t.active AND t.site_id = ANY(@sites)
            """, connection, transaction);
        select.Parameters.AddWithValue("sites", siteIds);
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rosters[reader.GetGuid(0)].Add(((Sites.ShiftDays)reader.GetInt32(1), reader.GetFieldValue<TimeOnly>(2), reader.GetFieldValue<TimeOnly>(3)));
        }

        return rosters;
    }

    private static async Task<Dictionary<Guid, Recovery>> LoadForUpdateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid[] machineIds, CancellationToken ct)
    {
        // Locked in a fixed order so that two pumps never deadlock on the same machines.
        await using var select = new NpgsqlCommand(
            $"""
            SELECT {Recovery.Columns}
            FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id WHERE r.machine_id = ANY(@ids)
            ORDER BY r.machine_id FOR UPDATE OF r
            """, connection, transaction);
        select.Parameters.AddWithValue("ids", machineIds);
        var found = new Dictionary<Guid, Recovery>();
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var recovery = Recovery.Read(reader);
            found[recovery.MachineId] = recovery;
        }

        return found;
    }
}
