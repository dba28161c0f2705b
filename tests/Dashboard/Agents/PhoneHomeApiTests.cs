using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;
using static Reimage.Tests.TestFleet;

namespace Reimage.Dashboard.Tests.Agents;

/// <summary>Phone-home from task sequences: site-scoped tokens, forward-only reports, golden image enforcement, rate limits.</summary>
[Collection("Hangfire")]
public sealed class PhoneHomeApiTests(PostgresFixture postgres)
{
    private const string Approved = "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a19";
    private const string Rogue = "0000000000000000000000000000000000000000000000000000000000000bad";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Events_MoveImagingForwardOnly_ReplaysAndOtherSitesChangeNothing_AndFirstBootCompletesTheStep()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var (machine, serial, token) = await MachineAtImagingAsync(app, db, "PH");
        var other = await TestFleet.AddSiteAsync(db, "PH-OTHER");
        var otherToken = await AgentApiTests.TokenAsync(app, other.Id, "phone-home-tokens");

        var progress60 = await PostAsync(app, token, $$"""{"serial":"{{serial}}","event":"progress","percent":60}""");
        var progress30 = await PostAsync(app, token, $$"""{"serial":"{{serial}}","event":"progress","percent":30}""");
        var started = await PostAsync(app, token, $$"""{"serial":"{{serial}}","event":"started"}""");
        var wrongSite = await PostAsync(app, otherToken, $$"""{"serial":"{{serial}}","event":"first-boot"}""");
        var unknown = await PostAsync(app, token, """{"serial":"NO-SUCH-SERIAL","event":"started"}""");
        var stale = await PostAsync(app, token, $$"""{"serial":"{{serial}}","event":"applied","timestamp":"2020-01-01T00:00:00Z"}""");
        var invalid = await PostAsync(app, token, """{"mac":"not-a-mac","event":"rebooted","percent":140}""");
        var noToken = await app.SendJsonAsync("POST", "/phone-home/v1/events", $$"""{"serial":"{{serial}}","event":"started"}""", anonymous: true);
        var agentIsNoTaskSequence = await PostAsync(app, await AgentApiTests.EnrolAsync(app, other.Id, "x"), $$"""{"serial":"{{serial}}","event":"started"}""");

        Assert.Equal((202, 200, 200), (progress60.Status, progress30.Status, started.Status));
        Assert.Contains("ignored", progress30.Body, StringComparison.Ordinal);
        Assert.Equal((404, 404, 200, 400, 401, 401), (wrongSite.Status, unknown.Status, stale.Status, invalid.Status, noToken.Status, agentIsNoTaskSequence.Status));
        Assert.Contains("\"mac\"", invalid.Body, StringComparison.Ordinal);
        Assert.Contains("\"event\"", invalid.Body, StringComparison.Ordinal);
        Assert.Equal("Progress:60", await TextAsync(db, $"SELECT phase || ':' || percent FROM reimage.imaging_reports WHERE machine_id = '{machine}'"));
        Assert.Equal("Pending", await TextAsync(db, $"SELECT status FROM reimage.agent_commands WHERE machine_id = '{machine}' AND step = 'Imaging'"));

        var mac = await TextAsync(db, $"SELECT mac_addresses[1] FROM reimage.machines WHERE id = '{machine}'");
        var firstBoot = await PostAsync(app, token, $$$"""{"mac":"{{{mac.ToLowerInvariant().Replace(':', '-')}}}","event":"first-boot","attestation":{"osBuild":"10.0.22631.4460","imageId":"Win11-Std","imageVersion":"2026.11","imageSha256":"{{{Approved}}}","hostname":"h","domain":"corp"}}""");
        var replay = await PostAsync(app, token, $$"""{"serial":"{{serial}}","event":"first-boot"}""");

        Assert.Equal((202, 200), (firstBoot.Status, replay.Status));
        // Completed by the first boot (and perhaps already Applied by the server's pump).
        Assert.Equal("True", await TextAsync(db, $"SELECT status IN ('Completed', 'Applied') AND succeeded FROM reimage.agent_commands WHERE machine_id = '{machine}' AND step = 'Imaging'"));
    }

    [Fact]
    public async Task Verification_FailsWhenTheAttestedImageIsNotTheApprovedOne()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var image = await app.SendJsonAsync("POST", "/api/images", $$"""{"name":"Win11-Std","version":"2026.11","sha256":"{{Approved}}"}""");
        var badImage = await app.SendJsonAsync("POST", "/api/images", """{"name":"","version":"1","sha256":"xyz"}""");
        var id = JsonDocument.Parse(image.Body).RootElement.GetProperty("id").GetGuid();
        var approved = await app.SendJsonAsync("POST", $"/api/images/{id}/approve", "");
        Assert.Equal((201, 400, 200), (image.Status, badImage.Status, approved.Status));

        var good = await MachineAtImagingAsync(app, db, "GI");
        var bad = await MachineAtImagingAsync(app, db, "GJ");
        foreach (var (m, sha) in new[] { (good, Approved), (bad, Rogue) })
        {
            var sent = await PostAsync(app, m.Token, $$$"""{"serial":"{{{m.Serial}}}","event":"first-boot","attestation":{"imageId":"Win11-Std","imageVersion":"2026.11","imageSha256":"{{{sha}}}"}}""");
            Assert.Equal(202, sent.Status);
        }

        // Let the workflow apply the first boots, and complete both verifications as passed: only the approved image may be Restored.
        var pump = app.Services.GetRequiredService<WorkflowPump>();
        await pump.ApplyResultsAsync(Ct);
        await UntilAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE step = 'Verify'", "2");
        await using (var verify = db.CreateCommand("UPDATE reimage.agent_commands SET status = 'Completed', succeeded = true, completed_at = now(), deliveries = 1 WHERE step = 'Verify' AND status = 'Pending'"))
        {
            Assert.Equal(2, await verify.ExecuteNonQueryAsync(Ct));
        }

        await pump.ApplyResultsAsync(Ct);
        await UntilAsync(db, "SELECT count(*) FROM reimage.agent_commands WHERE step = 'Verify' AND status = 'Completed'", "0");

        Assert.Equal("Restored", await TextAsync(db, $"SELECT state FROM reimage.recoveries WHERE machine_id = '{good.Machine}'"));
        Assert.Equal("InProgress:Verify:2", await TextAsync(db, $"SELECT state || ':' || step || ':' || attempt FROM reimage.recoveries WHERE machine_id = '{bad.Machine}'"));
        Assert.Contains("is not the approved Win11-Std 2026.11", await TextAsync(db,
            $"SELECT detail FROM reimage.machine_events WHERE machine_id = '{bad.Machine}' ORDER BY id DESC LIMIT 1"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PhoneHome_IsRateLimitedPerToken_With429AndRetryAfter()
    {
        await using var app = new RateLimitedApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var (_, serial, token) = await MachineAtImagingAsync(app, db, "RL");

        var statuses = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await PostAsync(app, token, $$"""{"serial":"{{serial}}","event":"progress","percent":{{10 + i}}}""")).Status);
        }

        Assert.Equal([202, 202, 202, 429, 429], statuses);
    }

    private sealed class RateLimitedApp(string connectionString) : ReimageApp(connectionString)
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Reimage:Agents:PhoneHomePerMinute", "3");
        }
    }

    /// <summary>
    /// The replays a task sequence really sends: its own retry after a lost answer (same event id), the MDT failure step
    /// run twice (same id, reused from the task sequence variable), an old script's copy of the last attempt's failure
    /// (no id, the old timestamp), and a failure before imaging began, while the machine was still network-booting.
    /// </summary>
    [Fact]
    public async Task AFailure_CountsOnce_HoweverOftenItIsSent_AndAFailureAtNetworkBootFailsThatStep()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var pump = app.Services.GetRequiredService<WorkflowPump>();
        var (machine, serial, token) = await MachineAtImagingAsync(app, db, "RP");
        var sentAt = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var failed = $$"""{"serial":"{{serial}}","event":"failed","eventId":"ts-7f3a-failed","timestamp":"{{sentAt}}","detail":"step 'Apply image' failed (exit code 5)"}""";

        var first = await PostAsync(app, token, failed);
        await pump.ApplyResultsAsync(Ct);
        var retried = await PostAsync(app, token, failed);
        var idless = await PostAsync(app, token, $$"""{"serial":"{{serial}}","event":"failed","timestamp":"{{sentAt}}"}""");
        var badId = await PostAsync(app, token, $$"""{"serial":"{{serial}}","event":"failed","eventId":"has spaces and ; semicolons"}""");
        await pump.ApplyResultsAsync(Ct);

        Assert.Equal(202, first.Status);
        Assert.Equal(first, retried); // the first answer, again
        Assert.Equal(200, idless.Status);
        Assert.Contains("older than the machine's current imaging attempt", idless.Body, StringComparison.Ordinal);
        Assert.Equal(400, badId.Status);
        Assert.Equal("1", await TextAsync(db, $"SELECT count(*)::text FROM reimage.agent_commands WHERE machine_id = '{machine}' AND step = 'Imaging' AND succeeded = false"));

        var (booting, bootSerial, bootToken) = await MachineAtBootAsync(app, db, "RQ");
        var atBoot = await PostAsync(app, bootToken, $$"""{"serial":"{{bootSerial}}","event":"failed","eventId":"ts-boot-1","detail":"PXE: no boot file"}""");

        Assert.Equal(202, atBoot.Status);
        Assert.Equal("false|failed before imaging started (phone-home): PXE: no boot file", await TextAsync(db,
            $"SELECT succeeded::text || '|' || detail FROM reimage.agent_commands WHERE machine_id = '{booting}' AND step <> 'Imaging' ORDER BY attempt DESC LIMIT 1"));
    }

    /// <summary>
    /// A phone-home token's life: it expires (default 30 days; the expiry is moved into the past here, standing for the
    /// month going by), it is listed without its secret, revoked only with its site named, and each event records it.
    /// </summary>
    [Fact]
    public async Task PhoneHomeTokens_Expire_AreListedWithoutSecrets_RevokeWithConfirmation_AndEachEventNamesItsToken()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var (machine, serial, token) = await MachineAtImagingAsync(app, db, "TK");
        var list = await app.SendJsonAsync("GET", "/api/tokens", "");
        var listed = JsonDocument.Parse(list.Body).RootElement.EnumerateArray().Single(t => t.GetProperty("purpose").GetString() == "PhoneHome");
        var tokenId = listed.GetProperty("id").GetGuid();
        var lifetime = listed.GetProperty("expiresAt").GetDateTimeOffset() - listed.GetProperty("createdAt").GetDateTimeOffset();

        Assert.DoesNotContain(token, list.Body, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromDays(30), lifetime);
        Assert.Equal(202, (await PostAsync(app, token, $$"""{"serial":"{{serial}}","event":"started"}""")).Status);
        Assert.Equal(tokenId.ToString(), await TextAsync(db, $"SELECT token_id::text FROM reimage.imaging_reports WHERE machine_id = '{machine}'"));

        var unconfirmed = await app.SendJsonAsync("POST", $"/api/tokens/{tokenId}/revoke", "");
        var wrongSite = await app.SendJsonAsync("POST", $"/api/tokens/{tokenId}/revoke?confirm=OTHER", "");
        Assert.Equal((428, 409), (unconfirmed.Status, wrongSite.Status));
        Assert.Equal(202, (await PostAsync(app, token, $$"""{"serial":"{{serial}}","event":"progress","percent":20}""")).Status);
        Assert.Equal(200, (await app.SendJsonAsync("POST", $"/api/tokens/{tokenId}/revoke?confirm=tk", "")).Status);
        Assert.Equal(401, (await PostAsync(app, token, $$"""{"serial":"{{serial}}","event":"progress","percent":30}""")).Status);

        var fresh = await AgentApiTests.TokenAsync(app, await TestFleet.ScalarAsync<Guid>(db, "SELECT site_id FROM reimage.machines WHERE id = '" + machine + "'"), "phone-home-tokens");
        await TestFleet.ExecuteAsync(db, "UPDATE reimage.site_tokens SET expires_at = now() - interval '1 minute' WHERE revoked_at IS NULL AND purpose = 'PhoneHome'");
        Assert.Equal(401, (await PostAsync(app, fresh, $$"""{"serial":"{{serial}}","event":"progress","percent":40}""")).Status);
    }

    /// <summary>A task sequence that reports progress every couple of percent, as MDT's progress hook does: the history keeps one event per 10 % step.</summary>
    [Fact]
    public async Task ImagingReports_AreHistoryInTheChain_OneProgressEventPerTenPercent()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var (machine, serial, token) = await MachineAtImagingAsync(app, db, "HI");

        foreach (var json in new[]
        {
            """{"event":"started"}""", """{"event":"progress","percent":5}""", """{"event":"progress","percent":7}""", """{"event":"progress","percent":12}""",
            """{"event":"progress","percent":18}""", """{"event":"progress","percent":33}""", """{"event":"applied","detail":"Win11 applied"}""",
        })
        {
            Assert.Equal(202, (await PostAsync(app, token, json.Replace("{", $$"""{"serial":"{{serial}}",""", StringComparison.Ordinal))).Status);
        }

        var history = await TextAsync(db, $"SELECT string_agg(detail, ' | ' ORDER BY id) FROM reimage.machine_events WHERE machine_id = '{machine}' AND kind = 'imaging'");
        Assert.Equal("phone-home Started | phone-home Progress 5 % | phone-home Progress 12 % | phone-home Progress 33 % | phone-home Applied: Win11 applied", history);
        Assert.True((await Reimage.Orchestrator.Audit.AuditVerifier.VerifyAsync(db, Ct)).Intact);
        var page = await app.SendAsync("GET", $"/machines/{machine}", System.Net.IPAddress.Loopback);
        Assert.Contains("phone-home Progress 33 %", page.Body, StringComparison.Ordinal);
    }

    /// <remarks><paramref name="direct"/>: the token from the registry itself, for an app that runs on Kestrel (no test server to call).</remarks>
    internal static async Task<(Guid Machine, string Serial, string Token)> MachineAtBootAsync(ReimageApp app, NpgsqlDataSource db, string code, bool direct = false)
    {
        var site = await TestFleet.AddSiteAsync(db, code, imagingSlots: 5);
        var machine = (await TestFleet.AddMachinesAsync(db, site, 1))[0];
        await using (var profile = db.CreateCommand($"UPDATE reimage.machines SET image_profile = 'Win11-Std' WHERE id = '{machine}'"))
        {
            await profile.ExecuteNonQueryAsync(Ct);
        }

        await TestFleet.LaunchWaveAsync(db, "Imaging " + code, [machine]);
        await TestFleet.Dispatcher(db).DispatchAsync(Ct);
        var serial = await TextAsync(db, $"SELECT serial_number FROM reimage.machines WHERE id = '{machine}'");
        var token = direct
            ? (await app.Services.GetRequiredService<Reimage.Orchestrator.Agents.AgentRegistry>().IssueTokenAsync(site.Id, Reimage.Orchestrator.Agents.TokenPurpose.PhoneHome, "test", TimeSpan.FromDays(1), Ct)).Token
            : await AgentApiTests.TokenAsync(app, site.Id, "phone-home-tokens");
        return (machine, serial, token);
    }

    internal static async Task<(Guid Machine, string Serial, string Token)> MachineAtImagingAsync(ReimageApp app, NpgsqlDataSource db, string code, bool direct = false)
    {
        var (machine, serial, token) = await MachineAtBootAsync(app, db, code, direct);
        // The boot step's agent result, as a site agent would report it.
        await using (var booted = db.CreateCommand($"UPDATE reimage.agent_commands SET status = 'Completed', succeeded = true, completed_at = now(), deliveries = 1 WHERE machine_id = '{machine}'"))
        {
            await booted.ExecuteNonQueryAsync(Ct);
        }

        // Applied by this call, or by the server's own pump job if it got there first (it runs in the background).
        await app.Services.GetRequiredService<WorkflowPump>().ApplyResultsAsync(Ct);
        await UntilAsync(db, $"SELECT step FROM reimage.recoveries WHERE machine_id = '{machine}'", "Imaging");
        return (machine, serial, token);
    }

    /// <summary>Waits (at most 10 s) for the server's background pump, which may apply a result before the test's own call does.</summary>
    private static async Task UntilAsync(NpgsqlDataSource db, string sql, string expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string actual;
        while ((actual = await TextAsync(db, sql)) != expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
        }

        Assert.Equal(expected, actual);
    }

    private static Task<(int Status, string Body)> PostAsync(ReimageApp app, string token, string json) =>
        app.SendJsonAsync("POST", "/phone-home/v1/events", json, bearer: token);
}
