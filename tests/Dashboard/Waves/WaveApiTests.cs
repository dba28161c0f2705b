using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Waves;

[Collection("Hangfire")]
public sealed class WaveApiTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Wave_IsBuiltFromAFilter_RefusedLaunchUntilApproved_ThenQueuesItsMachines()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "API", imagingSlots: 0);
        await TestFleet.AddMachinesAsync(db, site, 6);

        var created = await PostAsync(app, "/api/waves", """{"name":"Identity","ordinal":1}""");
        Assert.True(created.Status == 201, created.Body);
        var wave = JsonDocument.Parse(created.Body).RootElement.GetProperty("id").GetGuid();
        var added = await PostAsync(app, $"/api/waves/{wave}/machines", """{"site":"api"}""");
        var early = await PostAsync(app, $"/api/waves/{wave}/launch", "");
        var approved = await PostAsync(app, $"/api/waves/{wave}/approve", "");
        var launched = await PostAsync(app, $"/api/waves/{wave}/launch", "");
        var list = await app.SendAsync("GET", "/api/waves", IPAddress.Loopback);

        Assert.Equal(201, created.Status);
        Assert.Contains("\"planned\":6", added.Body, StringComparison.Ordinal);
        Assert.Equal(409, early.Status);
        Assert.Contains("must be Approved", early.Body, StringComparison.Ordinal);
        Assert.Equal(200, approved.Status);
        Assert.Equal(200, launched.Status);
        Assert.Contains("\"machines\":6", launched.Body, StringComparison.Ordinal);
        var view = JsonDocument.Parse(list.Body).RootElement[0];
        Assert.Equal("Launched", view.GetProperty("status").GetString());
        Assert.Equal("admin", view.GetProperty("approvedBy").GetString());
        Assert.Equal(6, view.GetProperty("machines").GetProperty("Queued").GetInt64());
    }

    [Fact]
    public async Task WaveActions_OnAMissingWave_Are404_AndBadGates400Or409_Never500()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var a = JsonDocument.Parse((await PostAsync(app, "/api/waves", """{"name":"A","ordinal":1}""")).Body).RootElement.GetProperty("id").GetGuid();

        var missing = await PostAsync(app, $"/api/waves/{Guid.NewGuid()}/approve", "");
        var missingAdd = await PostAsync(app, $"/api/waves/{Guid.NewGuid()}/machines", """{"machineIds":[]}""");
        var selfGate = await app.SendJsonAsync("PUT", $"/api/waves/{a}/gates/{a}", """{"restoredPercent":100}""");
        var duplicate = await PostAsync(app, "/api/waves", """{"name":"A","ordinal":2}""");
        var nameless = await PostAsync(app, "/api/waves", """{"name":"","ordinal":2}""");

        Assert.Equal((404, 404, 409, 409, 400), (missing.Status, missingAdd.Status, selfGate.Status, duplicate.Status, nameless.Status));
    }

    [Fact]
    public async Task MachineActions_AnswerEachMachine_AndRefuseWhatTheStateDoesNotAllow()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "ACT");
        var machines = await TestFleet.AddMachinesAsync(db, site, 2);
        var unknown = Guid.NewGuid();

        var unconfirmed = await PostAsync(app, "/api/machines/actions", JsonSerializer.Serialize(new { action = "retry", machineIds = new[] { machines[0], unknown } }));
        var miscounted = await PostAsync(app, "/api/machines/actions", JsonSerializer.Serialize(new { action = "retry", machineIds = new[] { machines[0], unknown }, confirm = 30000 }));
        var retry = await PostAsync(app, "/api/machines/actions", JsonSerializer.Serialize(new { action = "retry", machineIds = new[] { machines[0], unknown }, confirm = 2 }));
        var skip = await PostAsync(app, "/api/machines/actions", JsonSerializer.Serialize(new { action = "skip", machineIds = new[] { machines[1] }, confirm = 1 }));
        var bogus = await PostAsync(app, "/api/machines/actions", JsonSerializer.Serialize(new { action = "format", machineIds = new[] { machines[1] } }));

        Assert.Equal((428, 428, 200), (unconfirmed.Status, miscounted.Status, retry.Status));
        Assert.Equal(2, JsonDocument.Parse(unconfirmed.Body).RootElement.GetProperty("machines").GetInt32());
        var results = JsonDocument.Parse(retry.Body).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, results.Count);
        Assert.All(results, r => Assert.False(r.GetProperty("done").GetBoolean()));
        Assert.Contains("NotPlanned", results[0].GetProperty("result").GetString(), StringComparison.Ordinal);
        Assert.Equal("no such machine", results[1].GetProperty("result").GetString());
        Assert.Contains("needs a reason", skip.Body, StringComparison.Ordinal);
        Assert.Equal(400, bogus.Status);
    }

    [Fact]
    public async Task CancellingAWave_NeedsTheCountOfMachinesItSendsBack()
    {
        // Before: one click on cancel sent a launched wave's 238 machines back to Not planned, unasked.
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "CXL");
        var machines = await TestFleet.AddMachinesAsync(db, site, 3);
        var wave = JsonDocument.Parse((await PostAsync(app, "/api/waves", """{"name":"To cancel","ordinal":1}""")).Body).RootElement.GetProperty("id").GetGuid();
        Assert.Equal(200, (await PostAsync(app, $"/api/waves/{wave}/machines", JsonSerializer.Serialize(new { machineIds = machines }))).Status);

        var unconfirmed = await PostAsync(app, $"/api/waves/{wave}/cancel", "");
        var wrong = await PostAsync(app, $"/api/waves/{wave}/cancel?confirm=1", "");
        var planned = await TestFleet.CountAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE state = 'Planned'");
        var confirmed = await PostAsync(app, $"/api/waves/{wave}/cancel?confirm=3", "");

        Assert.Equal((428, 409, 200), (unconfirmed.Status, wrong.Status, confirmed.Status));
        Assert.Contains("?confirm=3", unconfirmed.Body, StringComparison.Ordinal);
        Assert.Equal(3L, planned);
        Assert.Equal(3L, await TestFleet.CountAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE state = 'NotPlanned'"));
    }

    private static Task<(int Status, string Body)> PostAsync(ReimageApp app, string path, string json) => app.SendJsonAsync("POST", path, json);
}
