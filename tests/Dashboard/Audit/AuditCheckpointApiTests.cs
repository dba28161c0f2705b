using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Dashboard.Infrastructure;
using Reimage.Orchestrator.Audit;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Audit;

/// <summary>
/// The checkpoints as the installation runs them (its own key file and copy directory from configuration) and as an
/// auditor uses them: exported over the API with the public key, and held against the database by
/// <c>verify-audit --checkpoints</c>. The tampering stands for a database administrator who deletes a machine's whole
/// history and its chain head: nothing is left for the chain check to find.
/// </summary>
[Collection("Hangfire")]
public sealed class AuditCheckpointApiTests(PostgresFixture postgres) : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string root = Directory.CreateTempSubdirectory("reimage-audit-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task Checkpoints_AreExported_AndVerifyAuditFindsAHistoryDeletedSince()
    {
        var copies = Path.Combine(root, "copies");
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync(), settings: new Dictionary<string, string>
        {
            ["Reimage:Audit:SigningKey"] = Path.Combine(root, "signing.key"),
            ["Reimage:Audit:CheckpointDirectory"] = copies,
        });
        await app.CookieAsync();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var file = "hostname,site\nDC-01,HQ\nWS-01,HQ\n";
        Assert.True((await new FleetImporter(db, TimeProvider.System).ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(file)),
            new ImportOptions(CreateSites: true), new Actor("lead", "test"), Ct)).Imported);
        await app.Services.GetRequiredService<AuditCheckpointJob>().RunAsync(Ct);

        var (keyStatus, keyBody) = await app.SendJsonAsync("GET", "/api/audit/checkpoint-key", "", asUser: "admin");
        var (listStatus, listBody) = await app.SendJsonAsync("GET", "/api/audit/checkpoints", "", asUser: "admin");
        var (pageStatus, page) = await app.SendJsonAsync("GET", "/audit", "", asUser: "admin");
        Assert.Equal((200, 200, 200), (keyStatus, listStatus, pageStatus));
        var publicKey = JsonDocument.Parse(keyBody).RootElement.GetProperty("publicKey").GetString()!;
        Assert.Contains(publicKey, page, StringComparison.Ordinal);
        var exported = JsonDocument.Parse(listBody).RootElement.EnumerateArray().Select(c => Checkpoint.Parse(c.GetRawText())).ToList();
        Assert.Equal(2, Assert.Single(exported).Machines);
        Assert.True(File.Exists(Path.Combine(copies, Checkpoints.FileName(1))));

        var intact = new StringWriter();
        Assert.Equal(0, await CommandLine.VerifyAuditAsync(db, intact, Ct, copies, publicKey));
        Assert.Contains("Checkpoints intact: 1 in", intact.ToString(), StringComparison.Ordinal);

        await using (var wipe = db.CreateCommand(
            """
            DELETE FROM reimage.machine_events WHERE machine_id = (SELECT id FROM reimage.machines WHERE hostname = 'DC-01');
            UPDATE reimage.recoveries SET chain_head = NULL WHERE machine_id = (SELECT id FROM reimage.machines WHERE hostname = 'DC-01');
            DELETE FROM reimage.audit_checkpoints;
            """))
        {
            await wipe.ExecuteNonQueryAsync(Ct);
        }

        var broken = new StringWriter();
        var exit = await CommandLine.VerifyAuditAsync(db, broken, Ct, copies, publicKey);

        Assert.Equal(1, exit);
        Assert.Contains("Audit chain intact", broken.ToString(), StringComparison.Ordinal); // the chain alone cannot see it
        Assert.Contains("Checkpoints BROKEN", broken.ToString(), StringComparison.Ordinal);
        Assert.Contains("is no longer one of its events", broken.ToString(), StringComparison.Ordinal);
        Assert.Contains("checkpoint 1 is missing from the database", broken.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, await CommandLine.VerifyAuditAsync(db, new StringWriter(), Ct, copies, "not-a-key"));
    }
}
