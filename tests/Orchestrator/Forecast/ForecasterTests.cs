using Reimage.Orchestrator.Forecast;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Tests.Forecast;

public sealed class ForecasterTests
{
    [Fact]
    public void Range_TakesNearestRankPercentiles_AndCountsNeverAsLast()
    {
        var range = Forecaster.Range([.. Enumerable.Range(1, 10).Select(i => i * 3600.0).Reverse()]);
        Assert.Equal(new CompletionRange(TimeSpan.FromHours(5), TimeSpan.FromHours(9)), range);

        var stuck = Forecaster.Range([3600, 7200, double.PositiveInfinity, double.PositiveInfinity]);
        Assert.Equal(new CompletionRange(TimeSpan.FromHours(2), null), stuck);
    }

    [Fact]
    public void Forecast_IsTheSameEveryTime_AndReportsEachRun()
    {
        var plan = GeneratedPlans.Create(11, machines: 120);
        var reports = new List<int>();

        var first = Forecaster.Forecast(plan, runs: 40, new SynchronousProgress(reports), TestContext.Current.CancellationToken);
        var second = Forecaster.Forecast(plan, runs: 40, ct: TestContext.Current.CancellationToken);

        Assert.Equal(first.Fleet, second.Fleet);
        Assert.Equal(first.Waves, second.Waves);
        Assert.Equal(first.Sites, second.Sites);
        Assert.Equal(Enumerable.Range(1, 40), reports.Order());
        Assert.True(first.Fleet.Median <= first.Fleet.Percentile90 || first.Fleet.Percentile90 is null);
    }

    [Fact]
    public void Forecast_ComparesWithTheBound()
    {
        var plan = ReferenceScenarios.Load("small");

        var forecast = Forecaster.Forecast(plan, runs: 30, ct: TestContext.Current.CancellationToken);

        Assert.NotNull(forecast.Efficiency);
        Assert.InRange(forecast.Efficiency!.Value, 1.0, 5.0);
        Assert.Equal(forecast.Start + forecast.Fleet.Median, forecast.MedianCompletion);
    }

    /// <summary>A site where the technicians are the bottleneck: drive replacements, plenty of slots and drives, two people on a 12-hour day. Ids come from the seed, so a case replays exactly.</summary>
    internal static ForecastPlan HandsOnBound(int seed)
    {
        var random = new Random(seed);
        Guid Id() => new([.. Enumerable.Range(0, 16).Select(_ => (byte)random.Next(256))]);
        var site = new ForecastSite(Id(), "HQ", "Europe/Berlin", ImagingSlots: 60, HandsOnPerTechnician: 3,
            [.. Enumerable.Range(0, 2).Select(t => new ForecastTechnician(Id(), $"T{t}", "B1", [new ForecastShift(ShiftDays.EveryDay, new TimeOnly(6, 0), new TimeOnly(18, 0))]))],
            new Dictionary<string, int> { ["NVMe-512"] = 1000 }, []);
        var wave = new ForecastWave(Id(), "All", 1, []);
        var machines = Enumerable.Range(0, random.Next(60, 200)).Select(i => new ForecastMachine(Id(), $"PC{i:D4}", site.Id, wave.Id,
            i % 5 == 0 ? RecoveryPath.Reformat : RecoveryPath.DriveReplacement, random.Next(1, 5), $"B{random.Next(1, 3)}",
            random.Next(4).ToString(System.Globalization.CultureInfo.InvariantCulture), null, "NVMe-512", RemoteBoot: random.Next(4) > 0)).ToList();
        return new ForecastPlan(new DateTimeOffset(2026, 4, 6, 7, 0, 0, TimeSpan.FromHours(2)), [site], [wave], machines, StepDurations.Typical);
    }

    /// <summary>Reports as they happen, unlike <see cref="Progress{T}"/>, which posts them later.</summary>
    private sealed class SynchronousProgress(List<int> reports) : IProgress<int>
    {
        public void Report(int value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
