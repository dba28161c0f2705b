using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Dashboard.Fleet;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Fleet;

/// <summary>
/// A bulk action on "all matching" as the fleet page runs it: the lead is shown a count and agrees to it; an import
/// that lands between the question and the answer (the fleet changes under a lead all day) must not widen the action.
/// </summary>
[Collection("Hangfire")]
public sealed class FleetBulkTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ABulkAction_RunsOnlyOnTheCountTheLeadConfirmed()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "BLK");
        await TestFleet.AddMachinesAsync(db, site, 12);
        var bulk = app.Services.GetRequiredService<FleetBulk>();
        var everything = new FleetSelection([], new FleetFilter(SiteId: site.Id));
        var lead = new Actor("lead", "test");

        var shown = await bulk.CountAsync(everything, Ct);
        await TestFleet.AddMachinesAsync(db, site, 3, prefix: "LATE"); // arrives while the lead reads the question
        var events = await TestFleet.ScalarAsync<long>(db, "SELECT count(*) FROM reimage.machine_events");
        var stale = await bulk.ApplyAsync(LeadAction.Retry, everything, null, lead, shown, Ct);
        var eventsAfterStale = await TestFleet.ScalarAsync<long>(db, "SELECT count(*) FROM reimage.machine_events");
        var now = await bulk.CountAsync(everything, Ct);
        var confirmed = await bulk.ApplyAsync(LeadAction.Retry, everything, null, lead, now, Ct);

        Assert.Equal((12, 15), (shown, now));
        Assert.Null(stale);
        Assert.Equal(events, eventsAfterStale);
        Assert.Equal(15, confirmed!.Count);
    }
}
