namespace Reimage.Orchestrator.Forecast;

/// <summary>A completion estimate from many runs, as time after the plan's start; null means it did not finish (in at least that share of runs).</summary>
public sealed record CompletionRange(TimeSpan? Median, TimeSpan? Percentile90);

/// <summary>The forecast of a plan: median and 90th percentile of completion per wave, per site and for the fleet, beside the physical lower bound.</summary>
public sealed record PlanForecast(
    DateTimeOffset Start,
    int Runs,
    DispatchPolicy Policy,
    CompletionRange Fleet,
    IReadOnlyDictionary<Guid, CompletionRange> Waves,
    IReadOnlyDictionary<Guid, CompletionRange> Sites,
    PlanBound Bound,
    double MeanFailed)
{
    /// <summary>Median fleet makespan ÷ physical lower bound: 1 is as fast as physics allows; null when either is unknown.</summary>
    public double? Efficiency => Fleet.Median is { } median && Bound.Fleet is { } bound && bound > TimeSpan.Zero ? median / bound : null;

    public DateTimeOffset? MedianCompletion => Start + Fleet.Median;

    public DateTimeOffset? Percentile90Completion => Start + Fleet.Percentile90;
}

/// <summary>
/// Runs the simulation many times, seeds 1…runs, over the cores, and reads the percentiles. Runs differ only in their
/// random durations and failures, which are drawn by address (see <see cref="Dice"/>): two forecasts with the same
/// number of runs meet the same dice, so comparing a plan with its what-if, or the live policy with the baseline,
/// shows the change and not the noise.
/// </summary>
public static class Forecaster
{
    public static PlanForecast Forecast(ForecastPlan plan, int runs = 100, IProgress<int>? progress = null, CancellationToken ct = default) =>
        Forecast(plan, new SimulationOptions(), runs, progress, ct);

    public static PlanForecast Forecast(ForecastPlan plan, SimulationOptions options, int runs = 100, IProgress<int>? progress = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        var compiled = new CompiledPlan(plan, options.Policy);
        var (waves, sites, fleet, failed) = (new double[runs][], new double[runs][], new double[runs], new int[runs]);
        var done = 0;
        Parallel.For(0, runs, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct }, run =>
        {
            var outcome = new SimulationRun(compiled, seed: run + 1, options).Run(ct);
            (waves[run], sites[run], fleet[run]) = outcome.Makespans(compiled);
            failed[run] = outcome.Failed;
            progress?.Report(Interlocked.Increment(ref done));
        });

        return new PlanForecast(plan.Start, runs, options.Policy, Range(fleet),
            plan.Waves.Select((w, i) => (w.Id, Range: Range([.. waves.Select(r => r[i])]))).ToDictionary(x => x.Id, x => x.Range),
            plan.Sites.Select((s, i) => (s.Id, Range: Range([.. sites.Select(r => r[i])]))).ToDictionary(x => x.Id, x => x.Range),
            PhysicalBound.Of(compiled), failed.Average());
    }

    /// <summary>Nearest-rank percentiles; a run that never finished sorts last, so a median of "never" means most runs did not finish.</summary>
    internal static CompletionRange Range(double[] makespans)
    {
        Array.Sort(makespans);
        double At(double p) => makespans[(int)Math.Ceiling(p * makespans.Length) - 1];
        return new CompletionRange(ForecastSimulation.Span(At(0.5)), ForecastSimulation.Span(At(0.9)));
    }
}
