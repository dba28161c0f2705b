using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Tests;
using static Reimage.Tests.TestFleet;

namespace Reimage.Dashboard.Tests.Agents;

/// <summary>The agent protocol through the whole server pipeline (authentication, site scoping, validation).</summary>
[Collection("Hangfire")]
public sealed class AgentApiTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Enrolment_TradesAOneTimeTokenForACredential_StoredOnlyAsAHash()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "ENROL");

        var token = await TokenAsync(app, site.Id, "enrolment-tokens");
        var enrolled = await app.SendJsonAsync("POST", "/agent/v1/enrol", $$"""{"token":"{{token}}","name":"enrol-agent-1"}""", anonymous: true);
        var again = await app.SendJsonAsync("POST", "/agent/v1/enrol", $$"""{"token":"{{token}}","name":"enrol-agent-2"}""", anonymous: true);
        var forged = await app.SendJsonAsync("POST", "/agent/v1/enrol", $$"""{"token":"{{token[..^4]}}AAAA","name":"x"}""", anonymous: true);
        var missing = await app.SendJsonAsync("POST", "/agent/v1/enrol", """{"name":"x"}""", anonymous: true);

        Assert.Equal(200, enrolled.Status);
        var credential = JsonDocument.Parse(enrolled.Body).RootElement.GetProperty("credential").GetString()!;
        Assert.StartsWith("rag_", credential, StringComparison.Ordinal);
        Assert.Equal((401, 401, 400), (again.Status, forged.Status, missing.Status));
        Assert.Contains("already used", again.Body, StringComparison.Ordinal);
        var secret = credential[(credential.IndexOf('.', StringComparison.Ordinal) + 1)..];
        await using var stored = db.CreateCommand("SELECT count(*) FROM reimage.agents a WHERE encode(a.credential_hash, 'escape') LIKE '%' || @s || '%'");
        stored.Parameters.AddWithValue("s", secret);
        Assert.Equal(0L, (long)(await stored.ExecuteScalarAsync(Ct))!);
        Assert.Equal(1L, await CountAsync(db, "SELECT count(*) FROM reimage.agents"));
    }

    [Fact]
    public async Task AnAgent_SeesAndActsOnlyOnItsOwnSite()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var north = await TestFleet.AddSiteAsync(db, "NORTH", imagingSlots: 10);
        var south = await TestFleet.AddSiteAsync(db, "SOUTH", imagingSlots: 10);
        await TestFleet.LaunchWaveAsync(db, "Both", [.. await TestFleet.AddMachinesAsync(db, north, 3), .. await TestFleet.AddMachinesAsync(db, south, 3)]);
        await TestFleet.Dispatcher(db).DispatchAsync(Ct);
        var northAgent = await EnrolAsync(app, north.Id, "north-1");

        var leased = await app.SendJsonAsync("POST", "/agent/v1/commands/lease", """{"max":100,"waitSeconds":0}""", bearer: northAgent);
        var southCommands = await ColumnAsync<Guid>(db, $"SELECT c.id FROM reimage.agent_commands c WHERE c.site_id = '{south.Id}'");
        var forged = await app.SendJsonAsync("POST", "/agent/v1/results",
            JsonSerializer.Serialize(southCommands.Select(id => new { commandId = id, succeeded = true, detail = "not mine" })), bearer: northAgent);
        var anonymous = await app.SendJsonAsync("POST", "/agent/v1/commands/lease", """{"max":100,"waitSeconds":0}""", anonymous: true);
        var localOperator = await app.SendJsonAsync("POST", "/agent/v1/commands/lease", """{"max":100,"waitSeconds":0}""");

        Assert.Equal(200, leased.Status);
        var hosts = JsonDocument.Parse(leased.Body).RootElement.EnumerateArray().Select(c => c.GetProperty("hostname").GetString()!).ToList();
        Assert.Equal(3, hosts.Count);
        Assert.All(hosts, h => Assert.StartsWith("NORTH-", h, StringComparison.Ordinal));
        Assert.Contains("\"recorded\":0", forged.Body, StringComparison.Ordinal);
        Assert.Equal(3L, await CountAsync(db, $"SELECT count(*) FROM reimage.agent_commands WHERE site_id = '{south.Id}' AND status = 'Pending'"));
        Assert.Equal((401, 401), (anonymous.Status, localOperator.Status)); // the dashboard's local operator is no agent
    }

    [Fact]
    public async Task Results_AreRecordedOnce_RotationRetiresTheOldCredential_AndRevocationLocksTheAgentOut()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "ONCE", imagingSlots: 10);
        await TestFleet.LaunchWaveAsync(db, "Once", await TestFleet.AddMachinesAsync(db, site, 2));
        await TestFleet.Dispatcher(db).DispatchAsync(Ct);
        var credential = await EnrolAsync(app, site.Id, "once-1");
        var leased = JsonDocument.Parse((await app.SendJsonAsync("POST", "/agent/v1/commands/lease", """{"max":10,"waitSeconds":0}""", bearer: credential)).Body).RootElement;
        var results = JsonSerializer.Serialize(leased.EnumerateArray().Select(c => new { commandId = c.GetProperty("id").GetGuid(), succeeded = true, detail = "woken" }));

        var first = await app.SendJsonAsync("POST", "/agent/v1/results", results, bearer: credential);
        var replay = await app.SendJsonAsync("POST", "/agent/v1/results", results, bearer: credential);
        var rotated = await app.SendJsonAsync("POST", "/agent/v1/credential/rotate", "{}", bearer: credential);
        var fresh = JsonDocument.Parse(rotated.Body).RootElement.GetProperty("credential").GetString()!;
        var old = await app.SendJsonAsync("POST", "/agent/v1/heartbeat", """{"inFlight":0}""", bearer: credential);
        var beat = await app.SendJsonAsync("POST", "/agent/v1/heartbeat", """{"inFlight":7,"version":"1.0"}""", bearer: fresh);
        var agentId = JsonDocument.Parse((await app.SendJsonAsync("GET", "/api/agents", "")).Body).RootElement[0].GetProperty("id").GetGuid();
        var list = JsonDocument.Parse((await app.SendJsonAsync("GET", "/api/agents", "")).Body).RootElement[0];
        var unconfirmed = await app.SendJsonAsync("POST", $"/api/agents/{agentId}/revoke", "");
        var wrongName = await app.SendJsonAsync("POST", $"/api/agents/{agentId}/revoke?confirm=another-agent", "");
        var stillWorks = await app.SendJsonAsync("POST", "/agent/v1/heartbeat", """{"inFlight":7,"version":"1.0"}""", bearer: fresh);
        var revoked = await app.SendJsonAsync("POST", $"/api/agents/{agentId}/revoke?confirm={list.GetProperty("name").GetString()}", "");
        var after = await app.SendJsonAsync("POST", "/agent/v1/heartbeat", """{"inFlight":0}""", bearer: fresh);

        Assert.Contains("\"recorded\":2", first.Body, StringComparison.Ordinal);
        Assert.Contains("\"recorded\":0", replay.Body, StringComparison.Ordinal);
        Assert.Equal((200, 401, 200), (rotated.Status, old.Status, beat.Status));
        Assert.True(list.GetProperty("online").GetBoolean());
        Assert.Equal(7, list.GetProperty("inFlight").GetInt32());
        Assert.Equal((428, 409, 200), (unconfirmed.Status, wrongName.Status, stillWorks.Status));
        Assert.Contains("confirm with ?confirm=once-1", unconfirmed.Body, StringComparison.Ordinal);
        Assert.Equal((200, 401), (revoked.Status, after.Status));
    }

    internal static async Task<string> TokenAsync(ReimageApp app, Guid site, string kind)
    {
        var issued = await app.SendJsonAsync("POST", $"/api/sites/{site}/{kind}", "{}");
        Assert.True(issued.Status == 201, issued.Body);
        return JsonDocument.Parse(issued.Body).RootElement.GetProperty("token").GetString()!;
    }

    internal static async Task<string> EnrolAsync(ReimageApp app, Guid site, string name)
    {
        var token = await TokenAsync(app, site, "enrolment-tokens");
        var enrolled = await app.SendJsonAsync("POST", "/agent/v1/enrol", $$"""{"token":"{{token}}","name":"{{name}}"}""", anonymous: true);
        return JsonDocument.Parse(enrolled.Body).RootElement.GetProperty("credential").GetString()!;
    }
}
