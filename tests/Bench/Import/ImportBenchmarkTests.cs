using System.Text.Json;
using Reimage.Bench.Import;
using Reimage.Tests;

namespace Reimage.Bench.Tests.Import;

/// <summary>The benchmark command itself keeps working (its figures are recorded in docs/benchmarks.md, not asserted here).</summary>
public sealed class ImportBenchmarkTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Benchmark_OnASmallFleet_ImportsEveryRowEachRun_AndEndsWithItsJsonLine()
    {
        var output = new StringWriter();

        var exit = await ImportBenchmark.RunAsync(postgres.Cluster.ConnectionString(), TimeProvider.System, rows: 300, repetitions: 2, output, TestContext.Current.CancellationToken);

        Assert.True(exit == 0, output.ToString());
        var last = output.ToString().Trim().Split('\n')[^1];
        using var json = JsonDocument.Parse(last);
        Assert.Equal(300, json.RootElement.GetProperty("rows").GetInt32());
        Assert.Equal(2, json.RootElement.GetProperty("runs").GetInt32());
        Assert.True(json.RootElement.GetProperty("import_median_s").GetDouble() > 0);
    }
}
