using System.Security.Cryptography;
using Reimage.Orchestrator.Forecast;

namespace Reimage.Orchestrator.Tests.Forecast;

/// <summary>
/// Pins what the simulation produces for fixed plans and seeds, to the last bit: the figures below were recorded from
/// the simulation as it was before its state was split into parts, so a refactoring that changes any decision, any
/// event order or any rounding fails here. A deliberate change of the model records them anew (the failure message
/// prints the new value).
/// </summary>
public sealed class SimulationGoldenTests
{
    /// <summary>Every completion time (its bits), counter and traced event of 300 generated plans under the option mixes the other tests use.</summary>
    [Fact]
    public void Run_GeneratedPlans_GivesTheRecordedOutcomes_BitForBit()
    {
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var seed = 0; seed < 300; seed++)
        {
            var trace = new SimulationTrace();
            var options = new SimulationOptions
            {
                Trace = trace,
                Policy = seed % 3 == 0 ? DispatchPolicy.FifoBaseline : DispatchPolicy.Live,
                RoundLimit = seed % 5 == 0 ? 2 : int.MaxValue,
                DispatchInterval = seed % 7 == 0 ? TimeSpan.FromMinutes(1) : TimeSpan.Zero,
            };
            var outcome = Outcome(GeneratedPlans.Create(seed), seed, options);

            Add(digest, outcome);
            Add(digest, trace.Rounds);
            foreach (var (kind, machine, at) in trace.Log)
            {
                Add(digest, (int)kind, machine, at);
            }

            foreach (var (machine, technician, step, from, to) in trace.HandsOn)
            {
                Add(digest, machine, technician, (int)step, from, to);
            }
        }

        Assert.Equal("1064816802aee67e", Convert.ToHexStringLower(digest.GetHashAndReset())[..16]);
    }

    /// <summary>A reference scenario at a size with shared links, USB couriers and hundreds of sites, both policies, a few seeds.</summary>
    [Theory]
    [InlineData(DispatchPolicy.Live, "ca8a9a08729cf0cf")]
    [InlineData(DispatchPolicy.FifoBaseline, "9b17e84ca63e606a")]
    public void Run_MaerskLike_GivesTheRecordedOutcomes_BitForBit(DispatchPolicy policy, string expected)
    {
        var plan = ReferenceScenarios.Load("maersk-like", 4_000);
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var seed = 1; seed <= 3; seed++)
        {
            Add(digest, Outcome(plan, seed, new SimulationOptions { Policy = policy }));
        }

        Assert.Equal(expected, Convert.ToHexStringLower(digest.GetHashAndReset())[..16]);
    }

    /// <summary>The forecast a user reads: P50 and P90 per site and for the fleet of the small scenario, in ticks.</summary>
    [Fact]
    public void Forecast_Small_GivesTheRecordedPercentiles()
    {
        var plan = ReferenceScenarios.Load("small");

        var forecast = Forecaster.Forecast(plan, runs: 20, progress: null, TestContext.Current.CancellationToken);

        var figures = plan.Sites.Select(s => $"{s.Code} {forecast.Sites[s.Id].Median?.Ticks} {forecast.Sites[s.Id].Percentile90?.Ticks}")
            .Append($"fleet {forecast.Fleet.Median?.Ticks} {forecast.Fleet.Percentile90?.Ticks}");
        Assert.Equal(
        [
            "HQ 1871916279205 1897680723995",
            "BR001 1273402775947 1863635835463",
            "BR002 1184818896384 1207347031726",
            "fleet 1872852172891 1897680723995",
        ], figures);
    }

    private static RunOutcome Outcome(ForecastPlan plan, int seed, SimulationOptions options) =>
        new SimulationRun(new CompiledPlan(plan, options.Policy), seed, options).Run(CancellationToken.None);

    private static void Add(IncrementalHash digest, RunOutcome outcome)
    {
        Add(digest, outcome.Restored, outcome.Failed, outcome.Unfinished);
        foreach (var done in outcome.Completion)
        {
            Add(digest, done);
        }
    }

    private static void Add(IncrementalHash digest, params ReadOnlySpan<double> values)
    {
        Span<byte> bytes = stackalloc byte[8];
        foreach (var value in values)
        {
            BitConverter.TryWriteBytes(bytes, BitConverter.DoubleToInt64Bits(value));
            digest.AppendData(bytes);
        }
    }
}
