using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.HandsOn;

/// <summary>A technician checks off the hands-on steps of a drive replacement through the API.</summary>
[Collection("Hangfire")]
public sealed class HandsOnApiTests(PostgresFixture postgres)
{
    // "technician" is what a forged or naive client adds: the server never reads who did the work from the body.
    private const string Evidence = """{"technician":"Noura Al-Harbi","removedDriveSerial":"WD-0042","evidenceBagId":"EB-1001","sealId":"SEAL-77","storageLocation":"Locker 3","caseNumber":"IR-2026-014"}""";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RemoveDrive_WithoutItsEvidence_Is400NamingEachMissingField_AndChangesNothing()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var machine = await MachineAtRemoveDriveAsync(app);

        var (status, body) = await CheckOffAsync(app, machine, "RemoveDrive", """{"technician":"Noura"}""", "k-1");

        Assert.Equal(400, status);
        Assert.Contains("removedDriveSerial", body, StringComparison.Ordinal);
        Assert.Contains("evidenceBagId", body, StringComparison.Ordinal);
        Assert.Contains("sealId", body, StringComparison.Ordinal);
        Assert.Equal("InProgress:RemoveDrive", await StateAsync(app, machine));
    }

    [Fact]
    public async Task RemoveDrive_CheckedOffTwiceWithOneKey_IsDoneOnce_AndBothGetTheSameAnswer()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var machine = await MachineAtRemoveDriveAsync(app);

        var first = await CheckOffAsync(app, machine, "RemoveDrive", Evidence, "tablet-7:check-1");
        var again = await CheckOffAsync(app, machine, "RemoveDrive", Evidence, "tablet-7:check-1");
        var custody = await app.SendAsync("GET", $"/api/machines/{machine}/custody", IPAddress.Loopback);

        Assert.Equal(200, first.Status);
        Assert.Equal(first, again);
        Assert.Equal("InProgress:InstallDrive", await StateAsync(app, machine));
        Assert.Equal(1L, await ScalarAsync(app, $"SELECT count(*) FROM reimage.machine_events WHERE machine_id = '{machine}' AND to_state = 'InProgress' AND step = 'InstallDrive'"));
        var item = Assert.Single(JsonDocument.Parse(custody.Body).RootElement.EnumerateArray());
        Assert.Equal("WD-0042", item.GetProperty("driveSerial").GetString());
        Assert.Equal("EB-1001", item.GetProperty("evidenceBagId").GetString());
        Assert.Equal("SEAL-77", item.GetProperty("sealId").GetString());
        Assert.Equal("admin", item.GetProperty("collectedBy").GetString()); // the signed-in account, not the body's "technician"
        Assert.Equal("Europe/London", item.GetProperty("timeZone").GetString());
        Assert.Equal("Locker 3", item.GetProperty("storageLocation").GetString());
        Assert.StartsWith("HO-PC", item.GetProperty("hostname").GetString(), StringComparison.Ordinal);
        Assert.Single(item.GetProperty("macAddresses").EnumerateArray());
        Assert.Single(item.GetProperty("transfers").EnumerateArray());
    }

    [Fact]
    public async Task CheckOff_AtTheWrongStep_Is409_TheSameKeyGetsThe409Again_AndAKeylessOneIs400()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var machine = await MachineAtRemoveDriveAsync(app);

        var wrong = await CheckOffAsync(app, machine, "InstallDrive", """{"technician":"Noura","newDriveSerial":"SP-1"}""", "k-9");
        var repeated = await CheckOffAsync(app, machine, "InstallDrive", """{"technician":"Noura","newDriveSerial":"SP-1"}""", "k-9");
        var keyless = await CheckOffAsync(app, machine, "RemoveDrive", Evidence, null);

        Assert.Equal(409, wrong.Status);
        Assert.Contains("not at InstallDrive", wrong.Body, StringComparison.Ordinal);
        Assert.Equal(wrong, repeated);
        Assert.Equal(400, keyless.Status);
    }

    [Fact]
    public async Task BothHandsOnSteps_CheckedOff_HandTheMachineToTheAgentForNetworkBoot()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var machine = await MachineAtRemoveDriveAsync(app);
        Assert.Equal(0L, await ScalarAsync(app, "SELECT count(*) FROM reimage.agent_commands")); // hands-on: no agent command

        await CheckOffAsync(app, machine, "RemoveDrive", Evidence, "a");
        var installed = await CheckOffAsync(app, machine, "InstallDrive", """{"technician":"Noura","newDriveSerial":"SP-1"}""", "b");

        Assert.Equal(200, installed.Status);
        Assert.Equal("InProgress:NetworkBoot", await StateAsync(app, machine));
        Assert.Equal(1L, await ScalarAsync(app, $"SELECT count(*) FROM reimage.agent_commands WHERE machine_id = '{machine}' AND kind = 'network-boot' AND status = 'Pending'"));
    }

    [Fact]
    public async Task Custody_IsHandedOnOnlyByItsHolder_AndTheRegisterExportsWithFormulasDisarmed()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var machine = await MachineAtRemoveDriveAsync(app);
        var removed = await CheckOffAsync(app, machine, "RemoveDrive", Evidence, "c-1");
        var item = JsonDocument.Parse(removed.Body).RootElement.GetProperty("evidenceItemId").GetGuid();

        // Mallory is a technician of the site who does not hold the drive; "from" in the body is ignored.
        await app.AddUserAsync("mallory", Reimage.Dashboard.Accounts.Roles.Technician, ["HO"], "mallory-password-2026");
        await app.CookieAsync("mallory", "mallory-password-2026");
        var notHolder = await app.SendJsonAsync("POST", $"/api/evidence/{item}/transfers", """{"from":"admin","to":"Mallory","location":"car park"}""", asUser: "mallory");
        var handed = await PostJsonAsync(app, $"/api/evidence/{item}/transfers", """{"from":"Noura Al-Harbi","to":"=HYPERLINK(\"http://x\")","location":"Forensics lab","note":"for imaging"}""");
        var missing = await PostJsonAsync(app, $"/api/evidence/{Guid.NewGuid()}/transfers", """{"from":"a","to":"b","location":"c"}""");
        var export = await app.SendAsync("GET", "/api/evidence/export?site=ho", IPAddress.Loopback);
        var byCase = await app.SendAsync("GET", "/api/evidence/export?case=IR-2026-014", IPAddress.Loopback);
        var otherCase = await app.SendAsync("GET", "/api/evidence/export?case=IR-1999-001", IPAddress.Loopback);
        var neither = await app.SendAsync("GET", "/api/evidence/export", IPAddress.Loopback);

        Assert.Equal((409, 200, 404), (notHolder.Status, handed.Status, missing.Status));
        Assert.Equal(200, export.Status);
        var lines = export.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length); // header, collection, hand-over
        Assert.StartsWith("case_number,evidence_bag_id,seal_id,drive_serial", lines[0], StringComparison.Ordinal);
        Assert.Equal(export.Body, byCase.Body);
        Assert.Single(otherCase.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // the header only
        Assert.Equal(400, neither.Status);
        Assert.Contains("EB-1001", lines[2], StringComparison.Ordinal);
        Assert.DoesNotContain(",=HYPERLINK", export.Body, StringComparison.Ordinal);
        Assert.Contains("'=HYPERLINK", export.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckOffAndHandOver_RecordTheSignedInAccount_NeverTheNameTheRequestCarries()
    {
        // A tablet (or an attacker) sends "technician": "Noura Al-Harbi" while signed in as Sami: the record says Sami.
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var machine = await MachineAtRemoveDriveAsync(app);
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.ScalarAsync<Guid>(db, $"SELECT site_id FROM reimage.machines WHERE id = '{machine}'");
        var sami = await TestFleet.AddTechnicianAsync(db, new Reimage.Orchestrator.Sites.Site { Id = site, Code = "HO", Name = "HO", TimeZone = "Europe/London" }, "Sami Khalil");
        await app.AddUserAsync("sami.k", Reimage.Dashboard.Accounts.Roles.Technician, ["HO"], "sami-password-2026", technician: sami.Id);
        await app.AddUserAsync("lawyer.r", Reimage.Dashboard.Accounts.Roles.Lead, ["HO"], "lawyer-password-2026", displayName: "Rana (counsel)");
        await app.CookieAsync("sami.k", "sami-password-2026");

        var removed = await app.SendJsonAsync("POST", $"/api/machines/{machine}/steps/RemoveDrive/complete", Evidence,
            new Dictionary<string, string> { ["Idempotency-Key"] = "forged-1" }, asUser: "sami.k");
        var item = JsonDocument.Parse(removed.Body).RootElement.GetProperty("evidenceItemId").GetGuid();
        var toAccount = await app.SendJsonAsync("POST", $"/api/evidence/{item}/transfers", """{"from":"Noura Al-Harbi","toAccount":"lawyer.r","location":"Legal hold room"}""", asUser: "sami.k");
        var noSuchAccount = await app.SendJsonAsync("POST", $"/api/evidence/{item}/transfers", """{"toAccount":"nobody","location":"x"}""", asUser: "sami.k");

        Assert.Equal((200, 200, 400), (removed.Status, toAccount.Status, noSuchAccount.Status));
        Assert.Equal("Sami Khalil (sami.k)", await TestFleet.ScalarAsync<string>(db, $"SELECT collected_by FROM reimage.evidence_items WHERE id = '{item}'"));
        Assert.Equal("sami.k", await TestFleet.ScalarAsync<string>(db,
            $"SELECT actor FROM reimage.machine_events WHERE machine_id = '{machine}' AND step = 'InstallDrive' AND to_state = 'InProgress'"));
        Assert.Equal("Sami Khalil (sami.k)>Rana (counsel) (lawyer.r)|lawyer.r|sami.k", await TestFleet.ScalarAsync<string>(db,
            $"SELECT \"from\" || '>' || \"to\" || '|' || to_account || '|' || entered_by FROM reimage.custody_transfers WHERE evidence_item_id = '{item}' ORDER BY id DESC LIMIT 1"));
        Assert.Equal(0L, await TestFleet.ScalarAsync<long>(db, "SELECT count(*) FROM reimage.evidence_items WHERE collected_by LIKE '%Noura%'"));
    }

    [Theory]
    [InlineData("UPDATE reimage.evidence_items SET collected_by = 'Mallory'", "was changed after it was recorded")]
    [InlineData("UPDATE reimage.evidence_items SET seal_id = 'SEAL-78'", "was changed after it was recorded")]
    [InlineData("UPDATE reimage.custody_transfers SET \"to\" = 'Mallory' WHERE id = (SELECT max(id) FROM reimage.custody_transfers)", "was changed after it was recorded")]
    [InlineData("DELETE FROM reimage.custody_transfers WHERE id = (SELECT max(id) FROM reimage.custody_transfers)", "was deleted")]
    [InlineData("INSERT INTO reimage.custody_transfers (evidence_item_id, \"from\", \"to\", entered_by, location, at, time_zone) SELECT id, 'Forensics lab', 'Mallory', 'mallory', 'car park', now(), time_zone FROM reimage.evidence_items", "added outside Reimage")]
    public async Task EvidenceAndCustody_AreSealedInTheChain_SoAnEditedRowFailsVerifyAudit(string tampering, string finding)
    {
        // Whoever can write the database edits the evidence register directly, as an insider covering a trail would.
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var machine = await MachineAtRemoveDriveAsync(app);
        var removed = await CheckOffAsync(app, machine, "RemoveDrive", Evidence, "seal-1");
        var item = JsonDocument.Parse(removed.Body).RootElement.GetProperty("evidenceItemId").GetGuid();
        var handed = await PostJsonAsync(app, $"/api/evidence/{item}/transfers", """{"to":"Forensics courier (DHL 4471)","location":"Forensics lab"}""");
        Assert.Equal(200, handed.Status);
        var before = await Reimage.Orchestrator.Audit.AuditVerifier.VerifyAsync(db, Ct);
        Assert.True(before.Intact, string.Join("; ", before.Findings.Select(f => f.Problem)));
        Assert.Equal(2L, await ScalarAsync(app, $"SELECT count(*) FROM reimage.machine_events WHERE machine_id = '{machine}' AND kind IN ('evidence', 'custody')"));

        await TestFleet.ExecuteAsync(db, tampering);

        var after = await Reimage.Orchestrator.Audit.AuditVerifier.VerifyAsync(db, Ct);
        Assert.False(after.Intact);
        Assert.Contains(after.Findings, f => f.Problem.Contains(finding, StringComparison.Ordinal));
    }

    /// <summary>
    /// The bundle a lead hands to the incident's lawyers, verified offline as they would, and then tampered with as
    /// someone between Reimage and the court might: each change is named, and a key other than the installation's is refused.
    /// </summary>
    [Fact]
    public async Task EvidenceBundle_OfACase_ProvesItselfOffline_AndEveryTamperingIsNamed()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var machine = await MachineAtRemoveDriveAsync(app);
        var removed = await CheckOffAsync(app, machine, "RemoveDrive", Evidence, "bundle-1");
        var item = JsonDocument.Parse(removed.Body).RootElement.GetProperty("evidenceItemId").GetGuid();
        Assert.Equal(200, (await PostJsonAsync(app, $"/api/evidence/{item}/transfers", """{"to":"Forensics courier (DHL 4471)","location":"Forensics lab"}""")).Status);

        // The case number entered at check-off is on the machine's page (before, it appeared nowhere).
        Assert.Contains("data-testid=\"machine-case\">IR-2026-014<", (await app.SendAsync("GET", $"/machines/{machine}", IPAddress.Loopback)).Body, StringComparison.Ordinal);

        var (status, zip) = await app.SendForBytesAsync("GET", "/api/evidence/bundle?case=IR-2026-014", IPAddress.Loopback);
        var noScope = await app.SendAsync("GET", "/api/evidence/bundle", IPAddress.Loopback);
        var noSuchCase = await app.SendAsync("GET", "/api/evidence/bundle?case=IR-0000-000", IPAddress.Loopback);
        var key = JsonDocument.Parse((await app.SendAsync("GET", "/api/audit/checkpoint-key", IPAddress.Loopback)).Body).RootElement.GetProperty("publicKey").GetString()!;
        Assert.Equal((200, 400, 404), (status, noScope.Status, noSuchCase.Status));

        var (exit, said) = Verify(zip, key);
        Assert.True(exit == 0, said);
        Assert.Contains("Bundle intact: case IR-2026-014: 1 evidence item(s), 2 custody transfer(s), 1 machine chain(s)", said, StringComparison.Ordinal);
        Assert.Contains("Forensics courier (DHL 4471)", Entry(zip, "register.csv"), StringComparison.Ordinal);
        Assert.Contains("compare", Verify(zip, null).Said, StringComparison.Ordinal); // no key given: the bundle's own claim, said so

        using var other = Reimage.Orchestrator.Audit.CheckpointKey.LoadOrCreate(Path.Combine(Path.GetTempPath(), $"other-{Guid.NewGuid():N}.key"));
        foreach (var (tampered, finding) in new (byte[], string)[]
        {
            (Rewrite(zip, "evidence.json", j => j.Replace("\"collectedBy\": \"", "\"collectedBy\": \"Mallory for ", StringComparison.Ordinal)), "was changed: it no longer matches its seal"),
            (Rewrite(zip, "register.csv", c => c.Replace("Forensics lab", "Car park", StringComparison.Ordinal)), "register.csv is not the register of the sealed evidence"),
            (Rewrite(zip, "events.json", j => j.Replace("\"actor\": \"", "\"actor\": \"x", StringComparison.Ordinal)), "does not chain"),
            (Rewrite(zip, "checkpoint.json", j => System.Text.RegularExpressions.Regex.Replace(j, "\"root\": \"[0-9a-f]{4}", "\"root\": \"0000")), "the signature does not verify"),
            (Rewrite(zip, "evidence.json", RemoveLastTransfer), "is sealed in the chain of machine"),
            (zip[..(zip.Length / 2)], "not a"),
        })
        {
            var (code, output) = Verify(tampered, key);
            Assert.True(code == 1 && output.Contains(finding, StringComparison.Ordinal), $"expected '{finding}', got {code}: {output}");
        }

        var (foreignExit, foreign) = Verify(zip, other.PublicKeyHex);
        Assert.Equal(1, foreignExit);
        Assert.Contains("does not verify with key", foreign, StringComparison.Ordinal);
    }

    private static (int Exit, string Said) Verify(byte[] bundle, string? key)
    {
        var path = Path.Combine(Path.GetTempPath(), $"bundle-{Guid.NewGuid():N}.zip");
        File.WriteAllBytes(path, bundle);
        try
        {
            var output = new StringWriter();
            return (Reimage.Dashboard.Infrastructure.CommandLine.VerifyBundle(path, key, output), output.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Entry(byte[] zip, string name)
    {
        using var archive = new System.IO.Compression.ZipArchive(new MemoryStream(zip));
        using var reader = new StreamReader(archive.GetEntry(name)!.Open());
        return reader.ReadToEnd();
    }

    private static byte[] Rewrite(byte[] zip, string name, Func<string, string> change)
    {
        var output = new MemoryStream();
        using (var source = new System.IO.Compression.ZipArchive(new MemoryStream(zip)))
        using (var target = new System.IO.Compression.ZipArchive(output, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries)
            {
                using var reader = new StreamReader(entry.Open());
                var text = reader.ReadToEnd();
                using var writer = new StreamWriter(target.CreateEntry(entry.FullName).Open());
                writer.Write(entry.FullName == name ? change(text) : text);
            }
        }

        var changed = output.ToArray();
        Assert.NotEqual(Entry(zip, name), Entry(changed, name)); // the tampering really changed something
        return changed;
    }

    private static string RemoveLastTransfer(string json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        var transfers = node["transfers"]!.AsArray();
        transfers.RemoveAt(transfers.Count - 1);
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    [Fact]
    public async Task RemoveDrive_CannotBeSkipped_ButAnEvidenceExceptionIsRecordedUnderTheLeadAndListedInTheRegister()
    {
        // Before: a lead's skip moved the machine past RemoveDrive and the drive left with no evidence record.
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var machine = await MachineAtRemoveDriveAsync(app);

        var skip = await PostJsonAsync(app, "/api/machines/actions", $$"""{"action":"skip","machineIds":["{{machine}}"],"reason":"in a hurry","confirm":1}""");
        var vague = await PostJsonAsync(app, "/api/machines/actions", $$"""{"action":"evidenceException","machineIds":["{{machine}}"],"reason":"no drive","confirm":1}""");
        Assert.Equal("InProgress:RemoveDrive", await StateAsync(app, machine));
        var recorded = await PostJsonAsync(app, "/api/machines/actions", $$"""{"action":"evidenceException","machineIds":["{{machine}}"],"reason":"DriveMissing: bay empty when the technician opened the case","confirm":1}""");
        var register = await app.SendAsync("GET", "/api/evidence/export?site=HO", IPAddress.Loopback);

        Assert.Contains("cannot be skipped", skip.Body, StringComparison.Ordinal);
        Assert.Contains("Category: what happened", vague.Body, StringComparison.Ordinal);
        Assert.Contains("\"done\":true", recorded.Body, StringComparison.Ordinal);
        Assert.Equal("InProgress:InstallDrive", await StateAsync(app, machine));
        Assert.Equal("admin", await TestFleet.ScalarAsync<string>(app.Services.GetRequiredService<NpgsqlDataSource>(),
            $"SELECT actor FROM reimage.machine_events WHERE machine_id = '{machine}' AND detail LIKE 'evidence exception DriveMissing:%'"));
        Assert.Contains("evidence exception DriveMissing: bay empty when the technician opened the case", register.Body, StringComparison.Ordinal);

        // The site's sealed bundle carries the exception too, proven by the chain it is an event of.
        var (status, bundle) = await app.SendForBytesAsync("GET", "/api/evidence/bundle?site=HO", IPAddress.Loopback);
        Assert.Equal(200, status);
        var (exit, said) = Verify(bundle, null);
        Assert.True(exit == 0, said);
        Assert.Contains("evidence exception DriveMissing: bay empty", Entry(bundle, "register.csv"), StringComparison.Ordinal);
    }

    private static Task<(int Status, string Body)> PostJsonAsync(ReimageApp app, string path, string json) => app.SendJsonAsync("POST", path, json);

    private static async Task<Guid> MachineAtRemoveDriveAsync(ReimageApp app)
    {
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "HO", imagingSlots: 5);
        var machine = (await TestFleet.AddMachinesAsync(db, site, 1, path: RecoveryPath.DriveReplacement, diskType: "NVMe-512"))[0];
        await TestFleet.AddTechnicianAsync(db, site, "Dana");
        await TestFleet.StockAsync(db, site, "NVMe-512", 1);

        var planner = app.Services.GetRequiredService<WavePlanner>();
        var wave = await planner.CreateAsync("Replacement", 1, Ct);
        await planner.AddMachinesAsync(wave.Id, [machine], Actor.System("test"), Ct);
        await planner.ApproveAsync(wave.Id, Actor.System("test"), Ct);
        await planner.LaunchAsync(wave.Id, Actor.System("test"), Ct);
        await app.Services.GetRequiredService<Reimage.Orchestrator.Scheduling.Dispatcher>().DispatchAsync(Ct);
        Assert.Equal("InProgress:RemoveDrive", await StateAsync(app, machine));
        return machine;
    }

    private static Task<(int Status, string Body)> CheckOffAsync(ReimageApp app, Guid machine, string step, string json, string? key) =>
        app.SendJsonAsync("POST", $"/api/machines/{machine}/steps/{step}/complete", json,
            key is null ? null : new Dictionary<string, string> { ["Idempotency-Key"] = key });

    private static async Task<string> StateAsync(ReimageApp app, Guid machine)
    {
        await using var command = app.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand($"SELECT state || ':' || coalesce(step, '') FROM reimage.recoveries WHERE machine_id = '{machine}'");
        return (string)(await command.ExecuteScalarAsync(Ct))!;
    }

    private static async Task<long> ScalarAsync(ReimageApp app, string sql)
    {
        await using var command = app.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }
}
