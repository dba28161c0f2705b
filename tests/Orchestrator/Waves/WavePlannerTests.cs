using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;
using static Reimage.Tests.TestFleet;

namespace Reimage.Orchestrator.Tests.Waves;

public sealed class WavePlannerTests(PostgresFixture postgres)
{
    private static readonly Actor Lead = new("lead@recovery", "test");
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Launch_WhenNotApproved_IsRefused_AndQueuesNothing()
    {
        var (db, planner, _) = await SetUpAsync();
        var site = await TestFleet.AddSiteAsync(db, "APP");
        var wave = await WaveWithAsync(planner, db, site, "Unapproved", 3);

        var refused = await Assert.ThrowsAsync<WaveRuleException>(() => planner.LaunchAsync(wave, Lead, Ct));

        Assert.Contains("must be Approved", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await CountAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE state = 'Queued'"));
    }

    [Fact]
    public async Task Approve_RecordsWhoAndWhen_AndOnlyOnce()
    {
        var (db, planner, _) = await SetUpAsync();
        var wave = await planner.CreateAsync("Identity", 1, Ct);

        await planner.ApproveAsync(wave.Id, Lead, Ct);
        await Assert.ThrowsAsync<WaveRuleException>(() => planner.ApproveAsync(wave.Id, new Actor("someone else", "test"), Ct));

        await using var context = TestFleet.Context(db);
        var stored = await context.Waves.SingleAsync(Ct);
        Assert.Equal((WaveStatus.Approved, "lead@recovery"), (stored.Status, stored.ApprovedBy));
        Assert.NotNull(stored.ApprovedAt);
    }

    [Fact]
    public async Task Pause_StopsAdmissions_AndResumeStartsThemAgain()
    {
        var (db, planner, pump) = await SetUpAsync();
        var site = await TestFleet.AddSiteAsync(db, "PAUSE", imagingSlots: 10);
        var wave = await WaveWithAsync(planner, db, site, "Pausable", 4);
        await planner.ApproveAsync(wave, Lead, Ct);
        await planner.LaunchAsync(wave, Lead, Ct);

        await planner.PauseAsync(wave, Lead, Ct);
        var whilePaused = await pump.DispatchAsync(Ct);
        await planner.ResumeAsync(wave, Lead, Ct);
        var afterResume = await pump.DispatchAsync(Ct);

        Assert.Equal((0, 4), (whilePaused, afterResume));
    }

    [Fact]
    public async Task Gate_HoldsTheDependentWave_UntilItsPrerequisiteReachesTheThreshold()
    {
        var (db, planner, pump) = await SetUpAsync();
        var site = await TestFleet.AddSiteAsync(db, "GATE", imagingSlots: 10);
        var identity = await WaveWithAsync(planner, db, site, "Identity", 2);
        var everyone = await WaveWithAsync(planner, db, site, "Everyone else", 3);
        await planner.SetGateAsync(everyone, identity, 50, Ct);
        foreach (var wave in new[] { identity, everyone })
        {
            await planner.ApproveAsync(wave, Lead, Ct);
            await planner.LaunchAsync(wave, Lead, Ct);
        }

        Assert.Equal(2, await pump.DispatchAsync(Ct)); // identity only
        Assert.Equal(0, await pump.DispatchAsync(Ct));
        await RestoreOneAsync(db, identity);
        Assert.Equal(3, await pump.DispatchAsync(Ct)); // 1 of 2 = 50 %: the gate opens
    }

    [Fact]
    public async Task SetGate_RefusesCyclesSelfDependenciesAndBadPercentages()
    {
        var (_, planner, _) = await SetUpAsync();
        var a = (await planner.CreateAsync("A", 1, Ct)).Id;
        var b = (await planner.CreateAsync("B", 2, Ct)).Id;
        var c = (await planner.CreateAsync("C", 3, Ct)).Id;
        await planner.SetGateAsync(b, a, 100, Ct);
        await planner.SetGateAsync(c, b, 100, Ct);

        await Assert.ThrowsAsync<WaveRuleException>(() => planner.SetGateAsync(a, c, 100, Ct));
        await Assert.ThrowsAsync<WaveRuleException>(() => planner.SetGateAsync(a, a, 100, Ct));
        await Assert.ThrowsAsync<WaveRuleException>(() => planner.SetGateAsync(c, a, 0, Ct));
        Assert.True((await Assert.ThrowsAsync<WaveRuleException>(() => planner.SetGateAsync(c, Guid.NewGuid(), 100, Ct))).NotFound);
    }

    [Fact]
    public async Task Cancel_ReturnsPlannedAndQueuedMachinesToNotPlanned_AndLeavesRunningOnesAlone()
    {
        var (db, planner, pump) = await SetUpAsync();
        var site = await TestFleet.AddSiteAsync(db, "CANCEL", imagingSlots: 1);
        var wave = await WaveWithAsync(planner, db, site, "Cancelled", 3);
        await planner.ApproveAsync(wave, Lead, Ct);
        await planner.LaunchAsync(wave, Lead, Ct);
        Assert.Equal(1, await pump.DispatchAsync(Ct));

        var unconfirmed = await Assert.ThrowsAsync<WaveRuleException>(() => planner.CancelAsync(wave, 200, Lead, Ct));
        Assert.Equal(2, await planner.CancelCountAsync(wave, Ct));
        var returned = await planner.CancelAsync(wave, 2, Lead, Ct);

        Assert.Contains("sends 2 machines back", unconfirmed.Message, StringComparison.Ordinal);
        Assert.Equal(2, returned);
        Assert.Equal(2L, await CountAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE state = 'NotPlanned' AND wave_id IS NULL"));
        Assert.Equal(1L, await CountAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE state = 'InProgress'"));
        Assert.Equal(0, await pump.DispatchAsync(Ct));
    }

    private async Task<(NpgsqlDataSource Db, WavePlanner Planner, Orchestrator.Scheduling.Dispatcher Pump)> SetUpAsync()
    {
        var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        return (db, TestFleet.Planner(db), TestFleet.Dispatcher(db));
    }

    private static async Task<Guid> WaveWithAsync(WavePlanner planner, NpgsqlDataSource db, Orchestrator.Sites.Site site, string name, int machines)
    {
        var wave = await planner.CreateAsync(name, name.Length, Ct);
        var ids = await TestFleet.AddMachinesAsync(db, site, machines, prefix: name[..1]);
        Assert.Equal(machines, await planner.AddMachinesAsync(wave.Id, ids, Lead, Ct));
        return wave.Id;
    }

    private static async Task RestoreOneAsync(NpgsqlDataSource db, Guid wave)
    {
        await using var connection = await db.OpenConnectionAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await using var select = new NpgsqlCommand("SELECT machine_id, version, step FROM reimage.recoveries WHERE wave_id = @w AND state = 'InProgress' LIMIT 1", connection, transaction);
        select.Parameters.AddWithValue("w", wave);
        Transition move;
        await using (var reader = await select.ExecuteReaderAsync(Ct))
        {
            Assert.True(await reader.ReadAsync(Ct));
            move = new Transition(reader.GetGuid(0), reader.GetInt64(1), RecoveryPath.Reformat, RecoveryState.InProgress, RecoveryState.Restored, null, 0, wave);
        }

        await new TransitionWriter(TimeProvider.System).WriteAsync(connection, transaction, [move], Lead, Ct);
        await transaction.CommitAsync(Ct);
    }
}
