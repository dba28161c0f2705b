using Hangfire;

namespace Reimage.Orchestrator.Workflow;

/// <summary>
/// The Hangfire job that runs the pump. Enqueued (debounced) whenever agents report results or a wave is
/// launched, and every minute by the recurring reconciler, so a lost job heals itself and step timeouts are swept. A re-run is safe:
/// the pump only acts on rows it claims, and stops as soon as a round finds nothing to do.
/// Bounded to a few seconds so that it never holds a worker for long.
/// </summary>
public sealed class WorkflowPumpJob(WorkflowPump pump, Scheduling.Dispatcher dispatcher, WorkflowKick kick, TimeProvider clock)
{
    public const string RecurringId = "workflow-reconcile";
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);

    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [1, 5, 15])]
    public async Task RunAsync(CancellationToken ct)
    {
        kick.Started();
        var started = clock.GetTimestamp();
        await pump.SweepTimeoutsAsync(ct);
        while (clock.GetElapsedTime(started) < Budget)
        {
            var applied = await pump.ApplyResultsAsync(ct);
            var admitted = await dispatcher.DispatchAsync(ct);
            if (applied == 0 && admitted == 0)
            {
                return;
            }
        }

        kick.Kick(); // budget spent with work left: hand over to a fresh run
    }
}

/// <summary>
/// Enqueues at most one pending pump job for the whole installation however many results arrive, on however many
/// nodes: the pending mark is a row in the database (<c>reimage.pump_kick</c>), set by the first kick and cleared by
/// whichever node's worker starts the job, so results that arrive during a run get a run of their own. (A mark kept
/// in the process, as before, was cleared only when that process ran the job: with a second Hangfire server, a node
/// whose job the other ran never kicked again until the minutely reconciler.) Without a data source (tests of other
/// parts), the mark is the process's own.
/// </summary>
public sealed class WorkflowKick(IBackgroundJobClient jobs, Npgsql.NpgsqlDataSource? db = null)
{
    private int _pending;

    public void Kick()
    {
        if (!Mark())
        {
            return;
        }

        try
        {
            jobs.Enqueue<WorkflowPumpJob>(job => job.RunAsync(CancellationToken.None));
        }
        catch
        {
            Started(); // storage unreachable: let the next caller (or the reconciler) try again
            throw;
        }
    }

    /// <summary>Sets the pending mark; true when it was not set (this caller enqueues).</summary>
    private bool Mark()
    {
        if (db is null)
        {
            return Interlocked.Exchange(ref _pending, 1) == 0;
        }

        // A mark older than 30 s is stale (its job was lost with a crashed node, or never started): kick again.
        using var command = db.CreateCommand("UPDATE reimage.pump_kick SET pending = true, marked_at = now() WHERE id = 1 AND (NOT pending OR marked_at < now() - interval '30 seconds')");
        return command.ExecuteNonQuery() == 1;
    }

    internal void Started()
    {
        if (db is null)
        {
            Interlocked.Exchange(ref _pending, 0);
            return;
        }

        using var command = db.CreateCommand("UPDATE reimage.pump_kick SET pending = false WHERE id = 1");
        command.ExecuteNonQuery();
    }
}
