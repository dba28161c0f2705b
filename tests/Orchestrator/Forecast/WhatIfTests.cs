using Reimage.Orchestrator.Forecast;
using Reimage.Orchestrator.Sites;

namespace Reimage.Orchestrator.Tests.Forecast;

public sealed class WhatIfTests
{
    private static readonly ForecastShift Day = new(ShiftDays.EveryDay, new TimeOnly(6, 0), new TimeOnly(18, 0));
    private static readonly ForecastShift Night = new(ShiftDays.EveryDay, new TimeOnly(18, 0), new TimeOnly(6, 0));

    [Fact]
    public void Compare_MoreTechnicians_NeverMakesAHandsOnBoundPlanLater()
    {
        for (var seed = 0; seed < 8; seed++)
        {
            var plan = ForecasterTests.HandsOnBound(seed);
            var site = plan.Sites[0].Id;
            var previous = Forecaster.Forecast(plan, runs: 100, ct: TestContext.Current.CancellationToken);
            foreach (var more in new[] { 1, 2, 4 })
            {
                var comparison = WhatIf.Compare(plan, [new AddTechnicians(site, more, Day), new AddTechnicians(site, more, Night)], runs: 100, ct: TestContext.Current.CancellationToken);

                Assert.Equal(previous.Fleet, comparison.Original.Fleet);
                Assert.True(comparison.MedianShift <= TimeSpan.Zero, $"seed {seed}, +{more}: median moved by {comparison.MedianShift}");
                Assert.True(comparison.Percentile90Shift <= TimeSpan.Zero, $"seed {seed}, +{more}: P90 moved by {comparison.Percentile90Shift}");
                plan = comparison.ChangedPlan;
                previous = comparison.Changed;
            }
        }
    }

    [Fact]
    public void Apply_MakesEachChange_OnACopy()
    {
        var plan = ForecasterTests.HandsOnBound(1);
        var site = plan.Sites[0];
        var later = new ForecastWave(Guid.NewGuid(), "Later", 2, []);
        plan = plan with { Waves = [plan.Waves[0], later] };
        var arrives = plan.Start.AddHours(6);

        var changed = WhatIf.Apply(plan, [
            new AddTechnicians(site.Id, 3, Night, "B2"), new RemoveTechnicians(site.Id, 1, Day), new AddSlots(site.Id, -70),
            new AddDelivery(site.Id, SpareStock.UsbMedia, 4, arrives), new ReorderWaves([later.Id])]);

        var after = changed.Sites[0];
        Assert.Equal(4, after.Technicians.Count);
        Assert.Equal(3, after.Technicians.Count(t => t.Shifts.SequenceEqual([Night]) && t.Building == "B2"));
        Assert.Equal(4, after.Technicians.Select(t => t.Id).Distinct().Count());
        Assert.Equal(0, after.ImagingSlots);
        Assert.Equal([new ForecastDelivery(SpareStock.UsbMedia, 4, arrives)], after.Deliveries);
        Assert.Equal([2, 1], changed.Waves.Select(w => w.Ordinal));
        Assert.Equal(2, plan.Sites[0].Technicians.Count); // the original is untouched
        Assert.Equal(WhatIf.Apply(plan, [new AddTechnicians(site.Id, 3, Night)]).Sites[0].Technicians.Select(t => t.Id),
            WhatIf.Apply(plan, [new AddTechnicians(site.Id, 3, Night)]).Sites[0].Technicians.Select(t => t.Id));
    }

    [Fact]
    public void Apply_ToASiteNotInThePlan_Throws()
    {
        var plan = ForecasterTests.HandsOnBound(1);

        Assert.Throws<ArgumentException>(() => WhatIf.Apply(plan, [new AddSlots(Guid.NewGuid(), 1)]));
    }
}
