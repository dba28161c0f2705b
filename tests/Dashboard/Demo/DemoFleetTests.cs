using System.Text;
using Npgsql;
using Reimage.Dashboard.Demo;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Demo;

public sealed class DemoFleetTests(PostgresFixture postgres)
{
    [Fact]
    public async Task DemoFleet_ImportsCleanly_ThroughTheRealImportPath()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        await using var csv = new MemoryStream(Encoding.UTF8.GetBytes(DemoFleet.Csv()));

        var report = await new FleetImporter(db, TimeProvider.System).ImportAsync(csv, new ImportOptions(CreateSites: true), Actor.System("test"), TestContext.Current.CancellationToken);

        Assert.True(report.Imported, report.ToText());
        Assert.Equal(DemoFleet.MachineCount, report.Inserted);
        Assert.InRange(DemoFleet.MachineCount, 29_000, 31_000);
        Assert.True(DemoFleet.Sites.Count >= 10);
        await using var roles = db.CreateCommand("SELECT count(DISTINCT role), count(DISTINCT department), count(DISTINCT criticality), count(DISTINCT building) FROM reimage.machines");
        await using var reader = await roles.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        await reader.ReadAsync(TestContext.Current.CancellationToken);
        Assert.Equal(4, reader.GetInt64(0)); // domain controllers, servers, workstations, laptops
        Assert.True(reader.GetInt64(1) >= 10);
        Assert.Equal(4, reader.GetInt64(2));
        Assert.True(reader.GetInt64(3) >= 4);
    }
}
