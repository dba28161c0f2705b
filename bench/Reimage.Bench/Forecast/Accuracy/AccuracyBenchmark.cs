using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using Reimage.Bench.Infrastructure;

namespace Reimage.Bench.Forecast.Accuracy;

/// <summary>
/// The accuracy drills as a benchmark (<c>bench-accuracy</c>): seeds 1…drills, each in its own throwaway database beside
/// the configured one, a line per drill and one JSON line with the figures the issue sets targets for.
/// </summary>
public static class AccuracyBenchmark
{
    public static async Task<AccuracySummary> RunAsync(string connectionString, int drills, int machines, TextWriter output, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(drills, 1);
        var settings = new DrillSettings { Machines = machines };
        await output.WriteLineAsync($"Accuracy drills: {drills} seeded drills of {machines} machines through the real engine on a drill clock, {Environment.ProcessorCount} cores.");
        var outcomes = new List<DrillOutcome>();
        var seconds = new List<double>();
        for (var seed = 1; seed <= drills; seed++)
        {
            await using var database = await ThrowawayDatabase.CreateAsync(connectionString, "reimage_accuracy", ct);
            await using var db = NpgsqlDataSource.Create(database.ConnectionString);
            var watch = Stopwatch.StartNew();
            var d = await AccuracyDrill.RunAsync(db, seed, settings, ct);
            seconds.Add(watch.Elapsed.TotalSeconds);
            outcomes.Add(d);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  seed {seed}: engine {Hours(d.Actual)} h, forecast P50 {Hours(d.Median)} h, P90 {Hours(d.Percentile90)} h ({d.ErrorPercent:+0.00;-0.00} %{(d.Covered ? "" : ", over the P90")}), twin {Hours(d.Twin)} h, failed {d.Failed}, {watch.Elapsed.TotalSeconds:F1} s"));
        }

        var summary = AccuracySummary.Of(outcomes);
        var first = outcomes[0];
        await output.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["benchmark"] = "forecast_accuracy",
            ["drills"] = summary.Drills,
            ["machines"] = machines,
            ["p50_error_pct"] = Math.Round(summary.MedianAbsoluteErrorPercent, 2),
            ["p50_signed_error_pct"] = Math.Round(summary.MedianErrorPercent, 2),
            ["within_10pct_pct"] = Math.Round(summary.WithinTenPercent, 1),
            ["p90_coverage_pct"] = Math.Round(summary.Percentile90Coverage, 1),
            ["twin_max_error_pct"] = Math.Round(outcomes.Max(o => Math.Abs(o.TwinErrorPercent ?? double.PositiveInfinity)), 2),
            ["forecast_p50_hours"] = Hours(first.Median),
            ["forecast_p90_hours"] = Hours(first.Percentile90),
            ["seconds_per_drill_median"] = Math.Round(seconds.Order().ElementAt(seconds.Count / 2), 1),
            ["meets_targets"] = summary.MeetsTargets,
        }).AsMemory(), ct);
        return summary;
    }

    private static double? Hours(TimeSpan? span) => span is { } s ? Math.Round(s.TotalHours, 2) : null;
}
