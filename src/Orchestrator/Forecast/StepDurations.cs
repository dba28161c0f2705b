using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// How long one attempt of a step takes: log-normal, so that most attempts sit near the <paramref name="Median"/> and a
/// few take much longer (a stuck BIOS, a slow disk), never less than zero.
/// </summary>
/// <param name="Spread">σ of the natural log of the duration: 0 is always the median; 0.5 puts the 90th percentile at 1.9 × the median.</param>
/// <param name="FailureRate">Chance that an attempt fails (found at its end), to be retried per the step's MaxAttempts.</param>
public sealed record StepDuration(TimeSpan Median, double Spread, double FailureRate = 0)
{
    /// <summary>z of the 90th percentile of the standard normal.</summary>
    private const double Z90 = 1.2815515655446004;

    public TimeSpan Percentile90 => Median * Math.Exp(Z90 * Spread);

    /// <summary>A duration in seconds for the standard normal deviate <paramref name="z"/>.</summary>
    internal double Seconds(double z) => Median.TotalSeconds * Math.Exp(Spread * z);
}

/// <summary>The step durations of a plan: one per step, optionally replaced per site.</summary>
public sealed record StepDurations(IReadOnlyDictionary<Step, StepDuration> Defaults)
{
    public IReadOnlyDictionary<(Guid SiteId, Step Step), StepDuration> BySite { get; init; } = new Dictionary<(Guid, Step), StepDuration>();

    public StepDuration For(Guid siteId, Step step) =>
        BySite.GetValueOrDefault((siteId, step)) ?? Defaults.GetValueOrDefault(step)
        ?? throw new InvalidOperationException($"The plan gives no duration for {step}.");

    /// <summary>A plausible default for each step, for plans that say nothing better.</summary>
    public static StepDurations Typical { get; } = new(new Dictionary<Step, StepDuration>
    {
        [Step.RemoveDrive] = new(TimeSpan.FromMinutes(12), 0.35, 0.005),
        [Step.InstallDrive] = new(TimeSpan.FromMinutes(10), 0.3, 0.005),
        [Step.NetworkBoot] = new(TimeSpan.FromMinutes(4), 0.4, 0.03),
        [Step.ManualBoot] = new(TimeSpan.FromMinutes(5), 0.4, 0.01),
        [Step.BmcBoot] = new(TimeSpan.FromMinutes(6), 0.4, 0.03),
        [Step.Imaging] = new(TimeSpan.FromMinutes(45), 0.3, 0.03),
        [Step.Verify] = new(TimeSpan.FromMinutes(6), 0.3, 0.02),
    });
}

/// <summary>
/// Random numbers by address rather than by sequence: the draw for (seed, machine, step, attempt) is the same whatever
/// order the simulation reaches it in. Two policies, or a plan and its what-if, therefore meet the same durations and
/// failures (common random numbers), so a difference between them is the policy's or the change's, not the dice's.
/// </summary>
internal static class Dice
{
    /// <summary>A standard normal deviate and a uniform in [0, 1) for one attempt.</summary>
    public static (double Normal, double Uniform) Roll(int seed, int machine, int step, int attempt)
    {
        var h = Mix(Mix(Mix((uint)seed) ^ (uint)machine) ^ (((ulong)(uint)step << 32) | (uint)attempt));
        var u1 = Unit(h);
        var u2 = Unit(h = Mix(h));
        var u3 = Unit(Mix(h));
        // Box–Muller; 1 − u1 keeps the logarithm finite.
        var normal = Math.Sqrt(-2 * Math.Log(1 - u1)) * Math.Cos(2 * Math.PI * u2);
        return (normal, u3);
    }

    private static double Unit(ulong bits) => (bits >> 11) * (1.0 / (1UL << 53));

    /// <summary>SplitMix64's finaliser: a bijective mix with good avalanche.</summary>
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
