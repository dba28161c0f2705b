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

    /// <summary>
    /// Four drive replacements, two drives on the shelf, two more arriving ten hours in: two machines' hands-on work
    /// (12 + 10 minutes each, typical medians) can only start then, and the last of them still has its boot, imaging
    /// and verification (4 + 45 + 6) to go. One technician round the clock: 10 h + 44 min + 55 min.
    /// </summary>
    [Fact]
    public void Of_WorkWaitingForADelivery_IsDoneAfterItArrives()
    {
        var start = new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);
        var (siteId, waveId) = (Guid.NewGuid(), Guid.NewGuid());
        var site = new ForecastSite(siteId, "D", "UTC", 10, 3,
            [new ForecastTechnician(Guid.NewGuid(), "Ana", "A", [new ForecastShift(Orchestrator.Sites.ShiftDays.EveryDay, default, default)])],
            new Dictionary<string, int> { ["ssd"] = 2 }, [new ForecastDelivery("ssd", 2, start.AddHours(10))]);
        var machines = Enumerable.Range(0, 4).Select(i => new ForecastMachine(Guid.NewGuid(), $"D{i}", siteId, waveId,
            Orchestrator.Workflow.RecoveryPath.DriveReplacement, 1, "A", "1", "101", "ssd")).ToList();
        var durations = new StepDurations(StepDurations.Typical.Defaults.ToDictionary(d => d.Key, d => d.Value with { Spread = 0, FailureRate = 0 }));
        var plan = new ForecastPlan(start, [site], [new ForecastWave(waveId, "W", 1, [])], machines, durations) { Walking = WalkingTimes.None };

        var bound = PhysicalBound.Of(plan).Sites[siteId];

        Assert.Equal(TimeSpan.FromHours(10) + TimeSpan.FromMinutes(44 + 55), bound.AfterDeliveries);
        Assert.Equal(bound.AfterDeliveries, bound.Bound);
        Assert.True(bound.Bound <= ForecastSimulation.Run(plan, 1).FleetMakespan);
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
