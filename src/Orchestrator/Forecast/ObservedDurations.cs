using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>How long one step actually took at one site (from the machine's events: step started → step done).</summary>
public sealed record ObservedDuration(Guid SiteId, Step Step, TimeSpan Duration);

/// <summary>
/// Replaces configured step durations with what the recovery shows, as it shows it: per site and step,
/// once there are enough observations, the log-normal that fits them best; until then, the configured one.
/// </summary>
public static class ObservedDurations
{
    /// <summary>Below this many observations a fitted spread is mostly noise; keep the configured distribution.</summary>
    public const int MinimumSamples = 20;

    /// <summary>
    /// Maximum-likelihood log-normal per (site, step) with at least <paramref name="minimumSamples"/> positive
    /// observations: median = exp(mean of ln d), spread = standard deviation of ln d (n − 1). The failure rate stays as
    /// configured: durations say nothing about it.
    /// </summary>
    public static StepDurations Fit(StepDurations configured, IEnumerable<ObservedDuration> samples, int minimumSamples = MinimumSamples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumSamples, 2);
        var fitted = new Dictionary<(Guid, Step), StepDuration>(configured.BySite);
        foreach (var group in samples.Where(s => s.Duration > TimeSpan.Zero).GroupBy(s => (s.SiteId, s.Step)))
        {
            var logs = group.Select(s => Math.Log(s.Duration.TotalSeconds)).ToList();
            if (logs.Count < minimumSamples)
            {
                continue;
            }

            var mean = logs.Average();
            var spread = Math.Sqrt(logs.Sum(x => (x - mean) * (x - mean)) / (logs.Count - 1));
            var failureRate = configured.BySite.GetValueOrDefault(group.Key)?.FailureRate ?? configured.Defaults.GetValueOrDefault(group.Key.Step)?.FailureRate ?? 0;
            fitted[group.Key] = new StepDuration(TimeSpan.FromSeconds(Math.Exp(mean)), spread, failureRate);
        }

        return configured with { BySite = fitted };
    }
}
