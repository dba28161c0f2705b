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
/// Enqueues at most one pending pump job per process however many results arrive; the job clears the flag
/// when it starts, so results that arrive during a run get a run of their own.
/// </summary>
public sealed class WorkflowKick(IBackgroundJobClient jobs)
{
    private int _pending;

    public void Kick()
    {
        if (Interlocked.Exchange(ref _pending, 1) != 0)
        {
            return;
        }

        try
        {
            jobs.Enqueue<WorkflowPumpJob>(job => job.RunAsync(CancellationToken.None));
        }
        catch
        {
            Interlocked.Exchange(ref _pending, 0); // storage unreachable: let the next caller (or the reconciler) try again
            throw;
        }
    }

    internal void Started() => Interlocked.Exchange(ref _pending, 0);
}
