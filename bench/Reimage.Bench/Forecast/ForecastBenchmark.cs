using System.Diagnostics;
using System.Text.Json;
using Reimage.Orchestrator.Forecast;

namespace Reimage.Bench.Forecast;

/// <summary>How one reference scenario fares against its physical lower bound, with the live policy and with the FIFO baseline.</summary>
/// <param name="LiveP1">Live median makespan ÷ lower bound (1 is as fast as physics allows).</param>
public sealed record ScenarioEfficiency(
    string Scenario, int Machines, TimeSpan? Bound, TimeSpan? LiveMedian, TimeSpan? LivePercentile90, double? LiveP1,
    TimeSpan? FifoMedian, TimeSpan? FifoPercentile90, double? FifoP1);

/// <summary>
/// The forecast's benchmark figures. Wall-clock seconds and the process's CPU seconds are both given: on a shared
/// machine the wall clock says what a user waits, the CPU time what the forecast itself costs.
/// </summary>
public sealed record ForecastBenchmarkResult(
    int Machines, int Cores, IReadOnlyList<double> RunSeconds, double RunSecondsMedian,
    int ForecastRuns, double ForecastSeconds, double ForecastCpuSeconds, IReadOnlyList<ScenarioEfficiency> Scenarios);

/// <summary>
/// Measures the forecast: one simulation run of a maersk-like plan grown to <c>machines</c> (median of five, each
/// including the plan's compilation), the full forecast of that plan (<c>runs</c> seeded runs over all cores, plus the
/// lower bound), and P1 = median makespan ÷ physical lower bound for each reference scenario, with the FIFO baseline
/// beside it. Writes one JSON line per benchmark (verb <c>bench-forecast</c>).
/// </summary>
public static class ForecastBenchmark
{
    public static async Task<ForecastBenchmarkResult> RunAsync(TextWriter? output = null, int machines = 100_000, int runs = 100, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(machines, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        output ??= TextWriter.Null;
        var plan = ReferenceScenarios.Load("maersk-like", machines);
        ForecastSimulation.Run(ReferenceScenarios.Load("small"), seed: 1); // warm the JIT on something small

        var samples = new List<double>();
        for (var seed = 1; seed <= 5; seed++)
        {
            ct.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            ForecastSimulation.Run(plan, seed);
            samples.Add(watch.Elapsed.TotalSeconds);
        }

        var median = samples.Order().ElementAt(samples.Count / 2);
        await WriteAsync(output, new() { ["benchmark"] = "forecast_run", ["machines"] = plan.Machines.Count, ["seconds"] = Round(median), ["samples"] = samples.Select(Round).ToArray() }, ct);

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var full = Stopwatch.StartNew();
        Forecaster.Forecast(plan, runs, progress: null, ct);
        var (forecastSeconds, forecastCpu) = (full.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
        await WriteAsync(output, new()
        {
            ["benchmark"] = "forecast_full", ["machines"] = plan.Machines.Count, ["runs"] = runs, ["seconds"] = Round(forecastSeconds),
            ["cpu_seconds"] = Round(forecastCpu), ["cores"] = Environment.ProcessorCount,
        }, ct);

        var scenarios = new List<ScenarioEfficiency>();
        foreach (var name in ReferenceScenarios.Names)
        {
            var scenario = ReferenceScenarios.Load(name);
            var live = Forecaster.Forecast(scenario, runs, progress: null, ct);
            var fifo = Forecaster.Forecast(scenario, new SimulationOptions { Policy = DispatchPolicy.FifoBaseline }, runs, progress: null, ct);
            var result = new ScenarioEfficiency(name, scenario.Machines.Count, live.Bound.Fleet, live.Fleet.Median, live.Fleet.Percentile90, live.Efficiency,
                fifo.Fleet.Median, fifo.Fleet.Percentile90, fifo.Efficiency);
            scenarios.Add(result);
            await WriteAsync(output, new()
            {
                ["benchmark"] = "forecast_p1", ["scenario"] = name, ["machines"] = result.Machines, ["runs"] = runs,
                ["bound_days"] = Days(result.Bound), ["p50_days"] = Days(result.LiveMedian), ["p90_days"] = Days(result.LivePercentile90), ["p1"] = Round(result.LiveP1),
                ["fifo_p50_days"] = Days(result.FifoMedian), ["fifo_p90_days"] = Days(result.FifoPercentile90), ["fifo_p1"] = Round(result.FifoP1),
            }, ct);
        }

        return new ForecastBenchmarkResult(plan.Machines.Count, Environment.ProcessorCount, samples, median, runs, forecastSeconds, forecastCpu, scenarios);
    }

    private static async Task WriteAsync(TextWriter output, Dictionary<string, object?> line, CancellationToken ct) =>
        await output.WriteLineAsync(JsonSerializer.Serialize(line).AsMemory(), ct);

    private static double? Days(TimeSpan? span) => span is { } s ? Math.Round(s.TotalDays, 3) : null;

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 3) : null;

    private static double Round(double value) => Math.Round(value, 3);
}
