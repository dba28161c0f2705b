using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Dashboard.Fleet;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Fleet;

[Collection("Hangfire")]
public sealed class FleetQueryTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Search_FindsAMachineByPartOfItsSerialOrAssetTag_OrByItsMacInAnyNotation()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "SRC");
        var machines = await TestFleet.AddMachinesAsync(db, site, 30);
        await TestFleet.ExecuteAsync(db, $"UPDATE reimage.machines SET asset_tag = 'AT-O''NEIL-7', mac_addresses = '{{AA:BB:CC:00:11:22}}' WHERE id = '{machines[7]}'");
        var query = app.Services.GetRequiredService<FleetQuery>();

        var bySerial = await query.PageAsync(new FleetFilter(Text: "srC-pcsn000007"), 0, 50, Ct);
        var byAssetTag = await query.PageAsync(new FleetFilter(Text: "o'neil"), 0, 50, Ct);
        var byMac = await query.PageAsync(new FleetFilter(Text: "aabb.cc00.1122"), 0, 50, Ct);
        var wildcard = await query.PageAsync(new FleetFilter(Text: "%"), 0, 50, Ct);

        Assert.Equal(machines[7], Assert.Single(bySerial.Rows).Id);
        Assert.Equal(machines[7], Assert.Single(byAssetTag.Rows).Id);
        Assert.Equal(machines[7], Assert.Single(byMac.Rows).Id);
        Assert.Equal((1, 0), (byMac.Total, wildcard.Total)); // a typed % is a character, not a wildcard
    }

    /// <summary>A room of machines imaging: one whose task sequence went quiet two hours ago, one still reporting, one that never reported at all.</summary>
    [Fact]
    public async Task StuckFilter_FindsImagingMachinesWhoseTaskSequenceWentQuiet()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "STK");
        var machines = await TestFleet.AddMachinesAsync(db, site, 4);
        await TestFleet.ExecuteAsync(db, $"""
            UPDATE reimage.recoveries SET state = 'InProgress', step = 'Imaging', step_started_at = now() - interval '3 hours' WHERE machine_id IN ('{machines[0]}', '{machines[1]}', '{machines[2]}');
            INSERT INTO reimage.imaging_reports (machine_id, step_started_at, phase, percent, reported_at)
            SELECT machine_id, step_started_at, 'Progress', 40, now() - interval '2 hours' FROM reimage.recoveries WHERE machine_id = '{machines[0]}';
            INSERT INTO reimage.imaging_reports (machine_id, step_started_at, phase, percent, reported_at)
            SELECT machine_id, step_started_at, 'Progress', 70, now() - interval '5 minutes' FROM reimage.recoveries WHERE machine_id = '{machines[1]}';
            """);
        var query = app.Services.GetRequiredService<FleetQuery>();

        var stuck = await query.PageAsync(new FleetFilter(StuckMinutes: 30), 0, 50, Ct);

        Assert.Equal(new[] { machines[0], machines[2] }.Order(), stuck.Rows.Select(r => r.Id).Order());
    }

    [Fact]
    public async Task SearchTotal_StopsCountingPastTheLimit_WhileFiltersWithoutTextCountExactly()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "CNT");
        await TestFleet.AddMachinesAsync(db, site, FleetQuery.SearchCountLimit + 5);
        var query = app.Services.GetRequiredService<FleetQuery>();

        var search = await query.PageAsync(new FleetFilter(Text: "cnt-pc"), 0, 10, Ct);
        var narrow = await query.PageAsync(new FleetFilter(Text: "cnt-pc000"), 0, 10, Ct);
        var bySite = await query.PageAsync(new FleetFilter(SiteId: site.Id), 0, 10, Ct);

        Assert.Equal((FleetQuery.SearchCountLimit + 1, 10, 10), (search.Total, search.Rows.Count, narrow.Total));
        Assert.Equal(FleetQuery.SearchCountLimit + 5, bySite.Total);
    }

    /// <summary>The query's search expression must match the migration's index expression exactly, or search scans the fleet.</summary>
    [Fact]
    public async Task Search_GoesThroughTheTrigramIndex()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        await using var connection = await db.OpenConnectionAsync(Ct);
        await using (var off = new NpgsqlCommand("SET enable_seqscan = off", connection))
        {
            await off.ExecuteNonQueryAsync(Ct);
        }

        await using var explain = new NpgsqlCommand($"EXPLAIN SELECT m.id FROM reimage.machines m WHERE {FleetQuery.SearchText} LIKE '%pc0012%'", connection);
        var plan = new List<string>();
        await using var reader = await explain.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            plan.Add(reader.GetString(0));
        }

        Assert.Contains(plan, line => line.Contains("ix_machines_search", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sort_ByStateAndSince_PagesThroughEveryMachineOnceInOrder()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var north = await TestFleet.AddSiteAsync(db, "NTH");
        var south = await TestFleet.AddSiteAsync(db, "STH");
        var machines = (await TestFleet.AddMachinesAsync(db, south, 20)).Concat(await TestFleet.AddMachinesAsync(db, north, 20)).ToArray();
        // Spread states and times: every third machine Failed, "since" descending with the index.
        await TestFleet.ExecuteAsync(db, string.Join(';', machines.Select((id, i) =>
            $"UPDATE reimage.recoveries SET state = '{(i % 3 == 0 ? "Failed" : "NotPlanned")}', state_changed_at = now() - interval '{i} minutes' WHERE machine_id = '{id}'")));
        var query = app.Services.GetRequiredService<FleetQuery>();

        async Task<List<FleetRow>> AllAsync(FleetSort sort, FleetFilter? filter = null)
        {
            var rows = new List<FleetRow>();
            for (var skip = 0; ; skip += 7)
            {
                var (page, _) = await query.PageAsync(filter ?? new FleetFilter(), sort, skip, 7, Ct);
                rows.AddRange(page);
                if (page.Count < 7)
                {
                    return rows;
                }
            }
        }

        var byState = await AllAsync(new FleetSort(FleetColumn.State));
        var bySinceNewest = await AllAsync(new FleetSort(FleetColumn.Since, Descending: true));
        var bySiteDesc = await AllAsync(new FleetSort(FleetColumn.Site, Descending: true));
        var northByState = await AllAsync(new FleetSort(FleetColumn.State), new FleetFilter(SiteId: north.Id));

        Assert.Equal(40, byState.Select(r => r.Id).Distinct().Count());
        Assert.Equal(14, byState.TakeWhile(r => r.State == RecoveryState.Failed).Count()); // "Failed" sorts before "NotPlanned"
        Assert.Equal(machines, bySinceNewest.Select(r => r.Id));
        Assert.Equal(40, bySiteDesc.Count);
        Assert.True(bySiteDesc.Take(20).All(r => r.Site == "STH") && bySiteDesc.Skip(20).All(r => r.Site == "NTH"));
        Assert.Equal(bySiteDesc.Take(20).Select(r => r.Hostname).OrderDescending(StringComparer.Ordinal), bySiteDesc.Take(20).Select(r => r.Hostname));
        Assert.Equal(20, northByState.Count);
        Assert.All(northByState, r => Assert.Equal("NTH", r.Site));
    }
}
