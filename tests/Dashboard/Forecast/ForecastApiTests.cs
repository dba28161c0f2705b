using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Forecast;

/// <summary>The forecast of the live plan through the API: built from the tables, kept until the plan changes, what-if beside it.</summary>
[Collection("Hangfire")]
public sealed class ForecastApiTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Forecast_OfTheLivePlan_IsKeptUntilThePlanChanges_AndWhatIfComparesAChange()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "FC", imagingSlots: 0); // nothing starts while the test reads the plan
        await TestFleet.AddTechnicianAsync(db, site, "Ana");
        await TestFleet.StockAsync(db, site, "NVMe-512", 100);
        await TestFleet.LaunchWaveAsync(db, "Forecast", [.. await TestFleet.AddMachinesAsync(db, site, 40, "DR", RecoveryPath.DriveReplacement, "NVMe-512"),
            .. await TestFleet.AddMachinesAsync(db, site, 40, "RF")]);
        await using (var slots = db.CreateCommand($"UPDATE reimage.sites SET imaging_slots = 10 WHERE id = '{site.Id}'"))
        {
            await slots.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var none = await app.SendJsonAsync("GET", "/api/forecast", "");
        var first = await app.SendJsonAsync("POST", "/api/forecast", "");
        var again = await app.SendJsonAsync("POST", "/api/forecast", "");
        var whatIf = await app.SendJsonAsync("POST", "/api/forecast/what-if", """{"site":"FC","technicians":3,"slots":0,"deliveryQuantity":0,"deliveryInDays":0}""");
        var bad = await app.SendJsonAsync("POST", "/api/forecast/what-if", """{"site":"FC","technicians":0,"slots":0,"deliveryQuantity":0,"deliveryInDays":0}""");
        var unknownSite = await app.SendJsonAsync("POST", "/api/forecast/what-if", """{"site":"NOPE","slots":5}""");

        Assert.Equal((404, 200, 200, 200, 400, 400), (none.Status, first.Status, again.Status, whatIf.Status, bad.Status, unknownSite.Status));
        var view = JsonDocument.Parse(first.Body).RootElement;
        Assert.Equal(80, view.GetProperty("machines").GetInt32());
        var p50 = view.GetProperty("fleetP50").GetDateTimeOffset();
        var bound = view.GetProperty("lowerBound").GetDateTimeOffset();
        Assert.True(p50 >= bound, $"median {p50} before the lower bound {bound}");
        Assert.Equal(view.GetProperty("madeAt").GetString(), JsonDocument.Parse(again.Body).RootElement.GetProperty("madeAt").GetString()); // unchanged plan: kept
        var comparison = JsonDocument.Parse(whatIf.Body).RootElement;
        Assert.True(comparison.GetProperty("changed").GetProperty("fleetP50").GetDateTimeOffset() <= comparison.GetProperty("plan").GetProperty("fleetP50").GetDateTimeOffset());
        Assert.Contains("3 more technicians at FC", comparison.GetProperty("summary").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhatIf_WithTheWavesReordered_FinishesTheWaveMovedUpFirst()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "WO", imagingSlots: 0);
        await TestFleet.LaunchWaveAsync(db, "Payroll", await TestFleet.AddMachinesAsync(db, site, 30, "PAY"), ordinal: 1);
        await TestFleet.LaunchWaveAsync(db, "Warehouse", await TestFleet.AddMachinesAsync(db, site, 30, "WH"), ordinal: 2);
        await TestFleet.ExecuteAsync(db, $"UPDATE reimage.sites SET imaging_slots = 5 WHERE id = '{site.Id}'");

        var reordered = await app.SendJsonAsync("POST", "/api/forecast/what-if", """{"waveOrder":["warehouse"]}""");
        var unknown = await app.SendJsonAsync("POST", "/api/forecast/what-if", """{"waveOrder":["Canteen"]}""");
        var twice = await app.SendJsonAsync("POST", "/api/forecast/what-if", """{"waveOrder":["Warehouse","warehouse"]}""");

        Assert.Equal((200, 400, 400), (reordered.Status, unknown.Status, twice.Status));
        Assert.Contains("no wave 'Canteen'", unknown.Body, StringComparison.Ordinal);
        var comparison = JsonDocument.Parse(reordered.Body).RootElement;
        Assert.Equal("waves in the order Warehouse → Payroll", comparison.GetProperty("summary").GetString());
        var before = Waves(comparison.GetProperty("plan"));
        var after = Waves(comparison.GetProperty("changed"));
        Assert.Equal(["Payroll", "Warehouse"], before.Select(w => w.Name));
        Assert.Equal(["Warehouse", "Payroll"], after.Select(w => w.Name));
        Assert.True(before[0].P50 < before[1].P50, $"as planned, Payroll ({before[0].P50}) finishes before Warehouse ({before[1].P50})");
        Assert.True(after[0].P50 < after[1].P50, $"reordered, Warehouse ({after[0].P50}) finishes before Payroll ({after[1].P50})");
        Assert.True(after[0].P50 < before[1].P50, "moving Warehouse up brings it forward");
    }

    private static List<(string Name, DateTimeOffset P50)> Waves(JsonElement view) =>
        [.. view.GetProperty("waves").EnumerateArray().Select(w => (w.GetProperty("name").GetString()!, w.GetProperty("p50").GetDateTimeOffset()))];
}
