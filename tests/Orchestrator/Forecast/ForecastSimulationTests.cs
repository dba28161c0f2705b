using Reimage.Orchestrator.Forecast;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Tests.Forecast;

public sealed class ForecastSimulationTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 23, 8, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Two drive replacements, one technician round the clock, fixed durations: remove 10, install 5, boot 2, image 30,
    /// verify 3 minutes. With one slot the second machine waits for the first to finish imaging (47 min) and is done at
    /// 47 + 50 = 97. With two slots both start at once; the technician does PC1 (0–15) then PC2 (15–30), so PC1 is done
    /// at 15 + 35 = 50 and PC2 at 30 + 35 = 65.
    /// </summary>
    [Theory]
    [InlineData(1, 50, 97)]
    [InlineData(2, 50, 65)]
    public void Run_TinyPlan_GivesTheHandComputedTimes(int slots, int first, int second)
    {
        var plan = Tiny(slots, WalkingTimes.None);

        var result = ForecastSimulation.Run(plan, seed: 1);

        Assert.Equal([TimeSpan.FromMinutes(first), TimeSpan.FromMinutes(second)], result.Completion);
        Assert.Equal(TimeSpan.FromMinutes(second), result.FleetMakespan);
        Assert.Equal(2, result.Restored);
    }

    /// <summary>PC2 is on another floor: with two slots the technician walks 3 minutes to it, so it is done 3 minutes later (68).</summary>
    [Fact]
    public void Run_TinyPlan_ChargesTheWalkToAnotherFloor()
    {
        var plan = Tiny(2, new WalkingTimes(TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(10)));
        plan = plan with { Machines = [plan.Machines[0] with { Floor = "1" }, plan.Machines[1] with { Floor = "2" }] };

        var result = ForecastSimulation.Run(plan, seed: 1);

        // The technician starts from their home building, floor unknown: a floor change to PC1 as well.
        Assert.Equal([TimeSpan.FromMinutes(53), TimeSpan.FromMinutes(71)], result.Completion);
    }

    [Fact]
    public void Run_SameSeed_SameResult_AndAnotherSeedDiffers()
    {
        for (var seed = 0; seed < 50; seed++)
        {
            var plan = GeneratedPlans.Create(seed);
            var a = ForecastSimulation.Run(plan, seed);
            var b = ForecastSimulation.Run(plan, seed);
            Assert.Equal(a.Completion, b.Completion);
            Assert.Equal(a.FleetMakespan, b.FleetMakespan);
        }

        var big = GeneratedPlans.Create(7, machines: 200);
        Assert.NotEqual(ForecastSimulation.Run(big, 1).Completion, ForecastSimulation.Run(big, 2).Completion);
    }

    [Fact]
    public void Run_WithNoTechnicianEver_LeavesHandsOnMachinesUnfinished()
    {
        var plan = Tiny(2, WalkingTimes.None);
        plan = plan with { Sites = [plan.Sites[0] with { Technicians = [] }] };

        var result = ForecastSimulation.Run(plan, seed: 1);

        Assert.Null(result.FleetMakespan);
        Assert.Equal(2, result.Unfinished);
    }

    internal static ForecastPlan Tiny(int slots, WalkingTimes walking)
    {
        var site = new ForecastSite(Guid.NewGuid(), "HQ", "UTC", slots, HandsOnPerTechnician: 3,
            [new ForecastTechnician(Guid.NewGuid(), "Ana", "B1", [new ForecastShift(ShiftDays.EveryDay, new TimeOnly(0, 0), new TimeOnly(0, 0))])],
            new Dictionary<string, int> { ["NVMe-512"] = 5 }, []);
        var wave = new ForecastWave(Guid.NewGuid(), "All", 1, []);
        ForecastMachine Machine(string name) =>
            new(Guid.NewGuid(), name, site.Id, wave.Id, RecoveryPath.DriveReplacement, 3, "B1", "1", "101", "NVMe-512");
        var durations = new Dictionary<Step, StepDuration>
        {
            [Step.RemoveDrive] = new(TimeSpan.FromMinutes(10), 0),
            [Step.InstallDrive] = new(TimeSpan.FromMinutes(5), 0),
            [Step.NetworkBoot] = new(TimeSpan.FromMinutes(2), 0),
            [Step.Imaging] = new(TimeSpan.FromMinutes(30), 0),
            [Step.Verify] = new(TimeSpan.FromMinutes(3), 0),
        };
        return new ForecastPlan(Start, [site], [wave], [Machine("PC1"), Machine("PC2")], new StepDurations(durations)) { Walking = walking };
    }
}
