using Reimage.Orchestrator.Forecast;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Tests.Forecast;

public sealed class ObservedDurationsTests
{
    private static readonly Guid Riyadh = Guid.NewGuid();
    private static readonly Guid Dhahran = Guid.NewGuid();

    [Theory]
    [InlineData(1, 30.0, 0.4)]
    [InlineData(2, 90.0, 0.15)]
    [InlineData(3, 8.0, 0.8)]
    public void Fit_WithEnoughSamples_RecoversTheLogNormal(int seed, double medianMinutes, double spread)
    {
        var random = new Random(seed);
        var samples = Enumerable.Range(0, 2000).Select(_ => new ObservedDuration(Riyadh, Step.Imaging,
            TimeSpan.FromMinutes(medianMinutes * Math.Exp(spread * Normal(random))))).ToList();

        var fitted = ObservedDurations.Fit(StepDurations.Typical, samples).For(Riyadh, Step.Imaging);

        Assert.InRange(fitted.Median.TotalMinutes, medianMinutes * 0.95, medianMinutes * 1.05);
        Assert.InRange(fitted.Spread, spread * 0.93, spread * 1.07);
        Assert.Equal(StepDurations.Typical.Defaults[Step.Imaging].FailureRate, fitted.FailureRate);
    }

    [Fact]
    public void Fit_KeepsTheConfiguredDistribution_UntilThereAreEnoughSamples_PerSiteAndStep()
    {
        var samples = Enumerable.Range(0, ObservedDurations.MinimumSamples - 1).Select(i => new ObservedDuration(Riyadh, Step.Imaging, TimeSpan.FromMinutes(100 + i)))
            .Concat(Enumerable.Range(0, ObservedDurations.MinimumSamples).Select(_ => new ObservedDuration(Dhahran, Step.Imaging, TimeSpan.FromMinutes(100))))
            .Append(new ObservedDuration(Riyadh, Step.Verify, TimeSpan.Zero)) // not a duration: ignored
            .ToList();

        var fitted = ObservedDurations.Fit(StepDurations.Typical, samples);

        Assert.Equal(StepDurations.Typical.Defaults[Step.Imaging], fitted.For(Riyadh, Step.Imaging));
        Assert.Equal(100, fitted.For(Dhahran, Step.Imaging).Median.TotalMinutes, precision: 6);
        Assert.Equal(0, fitted.For(Dhahran, Step.Imaging).Spread, precision: 9);
        Assert.Equal(StepDurations.Typical.Defaults[Step.Verify], fitted.For(Dhahran, Step.Verify));
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
