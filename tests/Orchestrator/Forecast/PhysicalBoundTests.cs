using Reimage.Orchestrator.Forecast;

namespace Reimage.Orchestrator.Tests.Forecast;

public sealed class PhysicalBoundTests
{
    /// <summary>
    /// The tiny plan of <see cref="ForecastSimulationTests"/>: with one slot, the bench carries 2 × (10 + 5 + 2 + 30) = 94
    /// minutes of slot-holding work; with two slots that is 47, and the longest path (50 minutes) binds.
    /// </summary>
    [Theory]
    [InlineData(1, 94)]
    [InlineData(2, 50)]
    public void Of_TinyPlan_IsTheHandComputedBound(int slots, int minutes)
    {
        var plan = ForecastSimulationTests.Tiny(slots, WalkingTimes.None);

        var bound = PhysicalBound.Of(plan);

        Assert.Equal(TimeSpan.FromMinutes(minutes), bound.Fleet);
        var site = bound.Sites[plan.Sites[0].Id];
        Assert.Equal(TimeSpan.FromMinutes(30), site.HandsOn);
        Assert.Equal(TimeSpan.FromMinutes(50), site.LongestPath);
    }

    /// <summary>With durations at their medians and no failures, no simulated run, under either policy, beats the bound; and "never" is never wrong.</summary>
    [Fact]
    public void Of_GeneratedPlans_IsNeverAboveASimulatedMakespan()
    {
        for (var seed = 0; seed < 300; seed++)
        {
            var plan = GeneratedPlans.Create(seed, deterministicDurations: true);
            var bound = PhysicalBound.Of(plan);
            foreach (var policy in new[] { DispatchPolicy.Live, DispatchPolicy.FifoBaseline })
            {
                var result = ForecastSimulation.Run(plan, seed, new SimulationOptions { Policy = policy });
                foreach (var site in plan.Sites)
                {
                    var (lower, actual) = (bound.Sites[site.Id].Bound, result.SiteMakespan[site.Id]);
                    Assert.True(lower is null ? actual is null : actual is null || lower <= actual + TimeSpan.FromMilliseconds(1),
                        $"seed {seed}, {policy}, {site.Code}: bound {lower}, makespan {actual}");
                }
            }
        }
    }

    [Fact]
    public void Of_SmallScenario_IsBelowEverySeededRun()
    {
        var plan = ReferenceScenarios.Load("small");
        var bound = PhysicalBound.Of(plan).Fleet;

        Assert.NotNull(bound);
        for (var seed = 1; seed <= 20; seed++)
        {
            Assert.True(bound <= ForecastSimulation.Run(plan, seed).FleetMakespan, $"seed {seed}");
        }
    }
}
