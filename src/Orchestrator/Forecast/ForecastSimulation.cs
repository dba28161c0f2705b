using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>Which rules the simulated dispatcher follows.</summary>
public enum DispatchPolicy
{
    /// <summary>The live <see cref="Scheduling.SchedulingPolicy"/>: wave order, criticality, location; floor-aware assignment; walking order.</summary>
    Live,

    /// <summary>The war-room spreadsheet: import order, first technician with room, queues worked first come first served. Same limits and gates.</summary>
    FifoBaseline,
}

public sealed record SimulationOptions
{
    public DispatchPolicy Policy { get; init; } = DispatchPolicy.Live;

    /// <summary>Admissions per dispatcher round (the live <see cref="WorkflowOptions.BatchSize"/>); a round that hits it is followed by another at once.</summary>
    public int RoundLimit { get; init; } = int.MaxValue;

    /// <summary>As <see cref="WorkflowOptions.RetryBackoff"/>: the wait before a failed automated step is tried again, doubling per attempt.</summary>
    public TimeSpan RetryBackoff { get; init; } = new WorkflowOptions().RetryBackoff;

    /// <summary>
    /// Zero: a dispatcher round right after every change, as the kicked live job does within seconds. Otherwise rounds
    /// run on this grid (the recurring reconciler's minute, say), batching the changes in between.
    /// </summary>
    public TimeSpan DispatchInterval { get; init; } = TimeSpan.Zero;

    /// <summary>Simulated time after which a run gives up; machines not Restored by then count as never finished.</summary>
    public TimeSpan Horizon { get; init; } = TimeSpan.FromDays(365);

    /// <summary>For tests: give the policy every waiting candidate of every site each round, as a dispatcher without the cut would.</summary>
    internal bool Exhaustive { get; init; }

    /// <summary>For tests: record every admission, hands-on segment, part movement and completion.</summary>
    internal SimulationTrace? Trace { get; init; }
}

/// <summary>One simulated recovery. Times are from <see cref="Start"/>; null means never (failed, left out, or not finished within the horizon).</summary>
/// <param name="Completion">Per machine, in the order of the plan: when it was Restored (zero if it already was).</param>
/// <param name="FleetMakespan">When the last machine that did not fail was Restored; null if one never was.</param>
public sealed record SimulationResult(
    DateTimeOffset Start,
    int Seed,
    IReadOnlyList<TimeSpan?> Completion,
    IReadOnlyDictionary<Guid, TimeSpan?> WaveMakespan,
    IReadOnlyDictionary<Guid, TimeSpan?> SiteMakespan,
    TimeSpan? FleetMakespan,
    int Restored,
    int Failed,
    int Unfinished);

/// <summary>
/// A discrete-event simulation of the recovery plan that admits and assigns with the live policy's own code: at each
/// change it builds the <see cref="Scheduling.SiteCapacity"/> snapshot and the <see cref="Scheduling.Candidate"/> list the
/// live dispatcher would, and calls <see cref="Scheduling.SchedulingPolicy.Admit"/> and
/// <see cref="Scheduling.SchedulingPolicy.Assign"/>. See <see cref="SimulationRun"/> for the model.
/// </summary>
public static class ForecastSimulation
{
    public static SimulationResult Run(ForecastPlan plan, int seed, SimulationOptions? options = null)
    {
        options ??= new SimulationOptions();
        var compiled = new CompiledPlan(plan, options.Policy);
        var outcome = new SimulationRun(compiled, seed, options).Run(CancellationToken.None);
        var (waves, sites, fleet) = outcome.Makespans(compiled);
        return new SimulationResult(plan.Start, seed,
            [.. outcome.Completion.Select(Span)],
            plan.Waves.Select((w, i) => (w.Id, i)).ToDictionary(x => x.Id, x => Span(waves[x.i])),
            plan.Sites.Select((s, i) => (s.Id, i)).ToDictionary(x => x.Id, x => Span(sites[x.i])),
            Span(fleet), outcome.Restored, outcome.Failed, outcome.Unfinished);
    }

    internal static TimeSpan? Span(double seconds) => double.IsFinite(seconds) ? TimeSpan.FromSeconds(seconds) : null;
}

/// <summary>What one run produced, per machine in plan order, in seconds after the start: NaN for a machine that failed or was left out, +∞ for one never finished.</summary>
internal sealed record RunOutcome(double[] Completion, int Restored, int Failed, int Unfinished)
{
    /// <summary>The last completion per wave, per site and for the fleet; +∞ where a machine never finished, 0 where nothing was left to do.</summary>
    public (double[] Waves, double[] Sites, double Fleet) Makespans(CompiledPlan plan)
    {
        var waves = new double[plan.WaveCount];
        var sites = new double[plan.SiteCount];
        var fleet = 0.0;
        for (var i = 0; i < Completion.Length; i++)
        {
            var done = Completion[plan.Original[i]];
            if (double.IsNaN(done))
            {
                continue;
            }

            waves[plan.MachineWave[i]] = Math.Max(waves[plan.MachineWave[i]], done);
            sites[plan.MachineSite[i]] = Math.Max(sites[plan.MachineSite[i]], done);
            fleet = Math.Max(fleet, done);
        }

        return (waves, sites, fleet);
    }
}

internal enum TraceKind
{
    Admitted,

    /// <summary>Left its last slot step (imaging done), or failed while holding a slot.</summary>
    SlotReleased,

    /// <summary>Left its last hands-on step, or failed at one.</summary>
    HandsOnLeft,
    PartConsumed,
    PartReleased,
    Restored,
    Failed,
}

/// <summary>Everything a run did, in the order it happened, for tests that check the limits independently of the simulator's own counters.</summary>
internal sealed class SimulationTrace
{
    public List<(TraceKind Kind, int Machine, double At)> Log { get; } = [];

    /// <summary>A technician at a machine: from setting off towards it to finishing it or handing it over at the end of the shift.</summary>
    public List<(int Machine, int Technician, Step Step, double From, double To)> HandsOn { get; } = [];

    public int Rounds { get; set; }
}
