using System.Text;
using Npgsql;
using Reimage.Orchestrator.Audit;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;
using static Reimage.Tests.TestFleet;

namespace Reimage.Orchestrator.Tests.Audit;

public sealed class AuditChainTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Verify_AfterImportReimportAndTransitions_FindsEveryChainIntact()
    {
        await using var db = await FleetWithHistoryAsync();

        var result = await AuditVerifier.VerifyAsync(db, Ct);

        Assert.True(result.Intact, string.Join("\n", result.Findings.Select(f => f.Problem)));
        Assert.Equal(3, result.Machines);
        Assert.Equal(3 + 1 + 3 * 2, result.Events); // imported ×3, updated ×1, planned and queued ×3
    }

    [Fact]
    public async Task Verify_WhenAnEventIsEdited_NamesThatEvent()
    {
        await using var db = await FleetWithHistoryAsync();
        var target = await ScalarAsync<long>(db, "SELECT id FROM reimage.machine_events WHERE kind = 'transition' ORDER BY id LIMIT 1 OFFSET 2");
        await ExecuteAsync(db, $"UPDATE reimage.machine_events SET actor = 'someone else' WHERE id = {target}");

        var result = await AuditVerifier.VerifyAsync(db, Ct);

        Assert.False(result.Intact);
        Assert.Equal(target, result.First!.EventId);
        Assert.Contains("edited", result.First.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_WhenAMiddleEventIsDeleted_NamesTheEventAfterTheGap()
    {
        await using var db = await FleetWithHistoryAsync();
        var machine = await ScalarAsync<Guid>(db, "SELECT machine_id FROM reimage.machine_events WHERE kind = 'updated'");
        var ids = await ListAsync(db, $"SELECT id FROM reimage.machine_events WHERE machine_id = '{machine}' ORDER BY id");
        await ExecuteAsync(db, $"DELETE FROM reimage.machine_events WHERE id = {ids[1]}");

        var result = await AuditVerifier.VerifyAsync(db, Ct);

        Assert.Equal(ids[2], result.First!.EventId);
        Assert.Contains($"does not follow event {ids[0]}", result.First.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_WhenTheLatestEventIsDeleted_SaysTheChainHeadPointsPastIt()
    {
        await using var db = await FleetWithHistoryAsync();
        var last = await ScalarAsync<long>(db, "SELECT max(id) FROM reimage.machine_events");
        await ExecuteAsync(db, $"DELETE FROM reimage.machine_events WHERE id = {last}");

        var result = await AuditVerifier.VerifyAsync(db, Ct);

        Assert.False(result.Intact);
        Assert.Contains("were deleted", result.First!.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_WhenTwoEventsAreSwapped_FindsTheReorder()
    {
        await using var db = await FleetWithHistoryAsync();
        var machine = await ScalarAsync<Guid>(db, "SELECT machine_id FROM reimage.machine_events WHERE kind = 'updated'");
        var ids = await ListAsync(db, $"SELECT id FROM reimage.machine_events WHERE machine_id = '{machine}' ORDER BY id");
        await ExecuteAsync(db, $"UPDATE reimage.machine_events SET id = -1 WHERE id = {ids[1]}; UPDATE reimage.machine_events SET id = {ids[1]} WHERE id = {ids[2]}; UPDATE reimage.machine_events SET id = {ids[2]} WHERE id = -1");

        var result = await AuditVerifier.VerifyAsync(db, Ct);

        Assert.False(result.Intact);
        Assert.Equal(ids[1], result.First!.EventId);
    }

    [Fact]
    public void Hash_InCSharp_MatchesTheSqlFunction_ForMultibyteAndNullFields()
    {
        var machine = Guid.Parse("0192f1d4-7d1e-7c3a-9b7e-1f2a3b4c5d6e");
        var at = new DateTime(2026, 11, 26, 17, 30, 1, DateTimeKind.Utc).AddTicks(1234560);
        var first = AuditChain.Hash(null, machine, at, "Asia/Riyadh", "Ünal Çelik", "api 127.0.0.1", "transition", "Queued", "InProgress", "NetworkBoot", null);
        var second = AuditChain.Hash(first, machine, at, "Asia/Riyadh", "Ünal Çelik", "api 127.0.0.1", "transition", "Queued", "InProgress", "NetworkBoot", null);

        Assert.Equal(32, first.Length);
        Assert.NotEqual(first, second);
        Assert.NotEqual(first, AuditChain.Hash(null, machine, at, "Asia/Riyadh", "Ünal Çelik", "api 127.0.0.1", "transition", "Queued", "InProgress", null, "NetworkBoot"));
    }

    [Fact]
    public async Task Hash_SqlFunction_AgreesWithCSharp()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var machine = Guid.NewGuid();
        var at = new DateTime(2026, 11, 26, 17, 30, 1, DateTimeKind.Utc).AddTicks(1234560);
        await using var command = db.CreateCommand("SELECT reimage.event_hash(@prev, @m, @at, 'Asia/Riyadh', 'Ünal Çelik', 'api', 'transition', NULL, 'Planned', NULL, 'x|y')");
        command.Parameters.AddWithValue("prev", new byte[] { 1, 2, 3 });
        command.Parameters.AddWithValue("m", machine);
        command.Parameters.AddWithValue("at", at);

        var sql = (byte[])(await command.ExecuteScalarAsync(Ct))!;

        Assert.Equal(AuditChain.Hash([1, 2, 3], machine, at, "Asia/Riyadh", "Ünal Çelik", "api", "transition", null, "Planned", null, "x|y"), sql);
    }

    /// <summary>Three imported machines, one re-imported with a change, all planned into a wave and launched.</summary>
    private async Task<NpgsqlDataSource> FleetWithHistoryAsync()
    {
        var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var importer = new FleetImporter(db, TimeProvider.System);
        var lead = new Actor("lead", "test");
        const string file = "hostname,site,department\nA-1,HQ,Finance\nA-2,HQ,Finance\nA-3,HQ,Finance\n";
        Assert.True((await importer.ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(file)), new ImportOptions(CreateSites: true), lead, Ct)).Imported);
        Assert.True((await importer.ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(file.Replace("A-2,HQ,Finance", "A-2,HQ,Legal", StringComparison.Ordinal))), new ImportOptions(CreateSites: true), lead, Ct)).Imported);

        var writer = new TransitionWriter(TimeProvider.System);
        foreach (var (from, to) in new[] { (RecoveryState.NotPlanned, RecoveryState.Planned), (RecoveryState.Planned, RecoveryState.Queued) })
        {
            var rows = new List<Transition>();
            await using (var select = db.CreateCommand("SELECT machine_id, version FROM reimage.recoveries"))
            await using (var reader = await select.ExecuteReaderAsync(Ct))
            {
                while (await reader.ReadAsync(Ct))
                {
                    rows.Add(new Transition(reader.GetGuid(0), reader.GetInt64(1), RecoveryPath.Reformat, from, to, null, 0, null));
                }
            }

            await using var connection = await db.OpenConnectionAsync(Ct);
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            Assert.Equal(3, (await writer.WriteAsync(connection, transaction, rows, lead, Ct)).Count);
            await transaction.CommitAsync(Ct);
        }

        return db;
    }

    private static async Task<List<long>> ListAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var ids = new List<long>();
        while (await reader.ReadAsync(Ct))
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }
}
