namespace Reimage.Bench.Forecast.Accuracy;

/// <summary>
/// The accuracy figures over a set of seeded drills, against the targets: the forecast median within 10 % of
/// what the engine did (the median drill's absolute error), and the 90th percentile covering at least 90 % of drills.
/// A drill that never finished counts as a miss on both.
/// </summary>
public sealed record AccuracySummary(int Drills, double MedianAbsoluteErrorPercent, double MedianErrorPercent, double WithinTenPercent, double Percentile90Coverage)
{
    public const double MaxMedianErrorPercent = 10;

    public const double MinPercentile90Coverage = 90;

    public bool MeetsTargets => MedianAbsoluteErrorPercent <= MaxMedianErrorPercent && Percentile90Coverage >= MinPercentile90Coverage;

    public static AccuracySummary Of(IReadOnlyCollection<DrillOutcome> drills)
    {
        ArgumentOutOfRangeException.ThrowIfZero(drills.Count);
        var errors = drills.Select(d => d.ErrorPercent ?? double.PositiveInfinity).ToList();
        return new AccuracySummary(drills.Count,
            Median(errors.Select(Math.Abs)), Median(errors),
            100.0 * errors.Count(e => Math.Abs(e) <= MaxMedianErrorPercent) / drills.Count,
            100.0 * drills.Count(d => d.Covered) / drills.Count);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
