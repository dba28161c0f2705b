using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;
using static Reimage.Tests.TestFleet;

namespace Reimage.Dashboard.Tests.Sites;

[Collection("Hangfire")]
public sealed class SiteApiTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lead_BuildsARosterAndStock_ThroughTheApi_AndBadInputIsNamedNotStored()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "ROSTER", timeZone: "Asia/Riyadh");

        var badTechnician = await app.SendJsonAsync("POST", $"/api/sites/{site.Id}/technicians", """{"name":" "}""");
        var technician = await app.SendJsonAsync("POST", $"/api/sites/{site.Id}/technicians", """{"name":"Ana","building":"HQ"}""");
        var technicianId = JsonDocument.Parse(technician.Body).RootElement.GetProperty("id").GetGuid();
        var badShift = await app.SendJsonAsync("POST", $"/api/technicians/{technicianId}/shifts", """{"days":"Mon,Funday","starts":"7am","ends":"19:00"}""");
        var shift = await app.SendJsonAsync("POST", $"/api/technicians/{technicianId}/shifts", """{"days":"Sun,Mon,Tue,Wed,Thu","starts":"19:00","ends":"07:00"}""");
        var noSuchTechnician = await app.SendJsonAsync("POST", $"/api/technicians/{Guid.NewGuid()}/shifts", """{"days":"Weekdays","starts":"07:00","ends":"19:00"}""");
        var badCapacity = await app.SendJsonAsync("PUT", $"/api/sites/{site.Id}/capacity", """{"imagingSlots":-1,"handsOnPerTechnician":0}""");
        var capacity = await app.SendJsonAsync("PUT", $"/api/sites/{site.Id}/capacity", """{"imagingSlots":40,"handsOnPerTechnician":4}""");
        var badStock = await app.SendJsonAsync("PUT", $"/api/sites/{site.Id}/stock/NVMe-512", """{"onHand":-3}""");
        var stock = await app.SendJsonAsync("PUT", $"/api/sites/{site.Id}/stock/NVMe-512", """{"onHand":2}""");
        var delivery = await app.SendJsonAsync("POST", $"/api/sites/{site.Id}/deliveries", """{"item":"NVMe-512","quantity":10,"reference":"PO-1"}""");
        var deliveryId = JsonDocument.Parse(delivery.Body).RootElement.GetProperty("id").GetGuid();
        var received = await app.SendJsonAsync("POST", $"/api/deliveries/{deliveryId}/receive", "");
        var again = await app.SendJsonAsync("POST", $"/api/deliveries/{deliveryId}/receive", "");
        var noSuchDelivery = await app.SendJsonAsync("POST", $"/api/deliveries/{Guid.NewGuid()}/receive", "");
        var sites = await app.SendJsonAsync("GET", "/api/sites", "");

        Assert.Equal((400, 201, 400, 201, 404), (badTechnician.Status, technician.Status, badShift.Status, shift.Status, noSuchTechnician.Status));
        Assert.Contains("days", badShift.Body, StringComparison.Ordinal);
        Assert.Contains("starts", badShift.Body, StringComparison.Ordinal);
        Assert.Equal((400, 200, 400, 200, 201), (badCapacity.Status, capacity.Status, badStock.Status, stock.Status, delivery.Status));
        Assert.Contains("handsOnPerTechnician", badCapacity.Body, StringComparison.Ordinal);
        Assert.Equal((200, 200, 404), (received.Status, again.Status, noSuchDelivery.Status));
        Assert.Contains("already received", again.Body, StringComparison.Ordinal);
        var view = JsonDocument.Parse(sites.Body).RootElement.EnumerateArray().Single(s => s.GetProperty("code").GetString() == "ROSTER");
        Assert.Equal(40, view.GetProperty("imagingSlots").GetInt32());
        Assert.Equal(12, view.GetProperty("stock")[0].GetProperty("onHand").GetInt32());
        var ana = view.GetProperty("technicians")[0];
        Assert.Equal("Ana", ana.GetProperty("name").GetString());
        Assert.Equal("19:00", ana.GetProperty("shifts")[0].GetProperty("starts").GetString());
        Assert.Equal(1L, await CountAsync(db, "SELECT count(*) FROM reimage.technicians"));
        Assert.Equal(1L, await CountAsync(db, "SELECT count(*) FROM reimage.shifts"));
    }

    [Fact]
    public async Task MachinesMoveBetweenWaves_UntilTheyStart_WithAnAnswerForEach()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "MOVE", imagingSlots: 0);
        var machines = await TestFleet.AddMachinesAsync(db, site, 3);
        var launched = await TestFleet.LaunchWaveAsync(db, "First", machines[..2]);
        var draft = await TestFleet.Planner(db).CreateAsync("Second", 2, Ct);
        await using (var start = db.CreateCommand($"UPDATE reimage.recoveries SET state = 'InProgress', step = 'Imaging' WHERE machine_id = '{machines[1]}'"))
        {
            await start.ExecuteNonQueryAsync(Ct);
        }

        var moved = await app.SendJsonAsync("POST", $"/api/waves/{draft.Id}/machines/move", $$"""{"machineIds":["{{machines[0]}}","{{machines[1]}}","{{machines[2]}}","{{Guid.NewGuid()}}"]}""");
        var back = await app.SendJsonAsync("POST", $"/api/waves/{launched}/machines/move", $$"""{"machineIds":["{{machines[0]}}"]}""");
        var empty = await app.SendJsonAsync("POST", $"/api/waves/{draft.Id}/machines/move", """{"machineIds":[]}""");
        var noWave = await app.SendJsonAsync("POST", $"/api/waves/{Guid.NewGuid()}/machines/move", $$"""{"machineIds":["{{machines[0]}}"]}""");

        Assert.Equal((200, 200, 400, 404), (moved.Status, back.Status, empty.Status, noWave.Status));
        var outcomes = JsonDocument.Parse(moved.Body).RootElement.EnumerateArray().Select(o => (o.GetProperty("done").GetBoolean(), o.GetProperty("result").GetString())).ToList();
        Assert.Equal((true, "moved to Second (Planned)"), outcomes[0]);
        Assert.False(outcomes[1].Item1);
        Assert.Contains("InProgress", outcomes[1].Item2, StringComparison.Ordinal);
        Assert.False(outcomes[2].Item1); // NotPlanned: planning is the wave's "add machines"
        Assert.Equal((false, "no such machine"), outcomes[3]);
        Assert.Contains("moved to First (Queued)", back.Body, StringComparison.Ordinal);
        Assert.Equal(RecoveryState.Queued.ToString(), await ScalarAsync<string>(db, $"SELECT state FROM reimage.recoveries WHERE machine_id = '{machines[0]}'"));
    }
}
