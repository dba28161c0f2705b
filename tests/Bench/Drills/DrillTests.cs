using System.Text.Json;
using Reimage.Bench.Drills;
using Reimage.Tests;

namespace Reimage.Bench.Tests.Drills;

/// <summary>The drill benchmark itself keeps working (its figures are recorded in docs/benchmarks.md, not asserted here).</summary>
[Collection("Hangfire")]
public sealed class DrillTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Drill_OnAFewHundredMachines_RestoresThemAll_AndEndsWithItsJsonLine()
    {
        var output = new StringWriter();

        var exit = await Drill.RunAsync(postgres.Cluster.ConnectionString(), machines: 300, sites: 3, output, TestContext.Current.CancellationToken);

        Assert.True(exit == 0, output.ToString());
        using var json = JsonDocument.Parse(output.ToString().Trim().Split('\n')[^1]);
        Assert.Equal(300, json.RootElement.GetProperty("machines").GetInt32());
        Assert.Equal(300 * 5, json.RootElement.GetProperty("transitions").GetInt64()); // queued, boot, imaging, verify, restored
        Assert.True(json.RootElement.GetProperty("baseline_jobs_per_s").GetDouble() > 0);
    }
}
