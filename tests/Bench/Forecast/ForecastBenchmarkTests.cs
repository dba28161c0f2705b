using System.Text.Json;
using Reimage.Bench.Forecast;

namespace Reimage.Bench.Tests.Forecast;

public sealed class ForecastBenchmarkTests
{
    /// <summary>Not timed: runs the benchmark tiny, to show it produces its lines.</summary>
    [Fact]
    public async Task Benchmark_WritesOneJsonLinePerFigure()
    {
        using var output = new StringWriter();

        var result = await ForecastBenchmark.RunAsync(output, machines: 2_000, runs: 2, TestContext.Current.CancellationToken);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["forecast_run", "forecast_full", "forecast_p1", "forecast_p1", "forecast_p1"], lines.Select(l => l.GetProperty("benchmark").GetString()));
        Assert.Equal(5, result.RunSeconds.Count);
        Assert.All(result.Scenarios, s => Assert.True(s.LiveP1 >= 1 && s.FifoP1 >= 1, $"{s.Scenario}: {s.LiveP1} {s.FifoP1}"));
    }
}
