using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Reimage.Orchestrator.Agents;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Orchestrator.Tests.Workflow;

public sealed class TimeoutSweepTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sweep_RetriesAStepThatOutlivedItsTimeout_FailsItPastTheLimit_AndQuarantinesARepeatOffender()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var writer = new TransitionWriter(clock);
        var pump = new WorkflowPump(db, writer, Options.Create(new WorkflowOptions { RetryBackoff = TimeSpan.Zero }), clock, NullLogger<WorkflowPump>.Instance);
        var site = await TestFleet.AddSiteAsync(db, "SWEEP");
        var machine = (await TestFleet.AddMachinesAsync(db, site, 1))[0];
        await MoveToNetworkBootAsync(db, writer, machine);
        var timeout = RecoveryPaths.Definition(RecoveryPath.Reformat, Step.NetworkBoot).Timeout;

        clock.Advance(timeout - TimeSpan.FromMinutes(1));
        Assert.Equal(0, await pump.SweepTimeoutsAsync(Ct));

        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await pump.SweepTimeoutsAsync(Ct));
        await using (var context = TestFleet.Context(db))
        {
            var recovery = await context.Recoveries.SingleAsync(Ct);
            Assert.Equal((RecoveryState.InProgress, Step.NetworkBoot, 2), (recovery.State, recovery.Step, recovery.Attempt));
            var commands = await context.AgentCommands.OrderBy(c => c.CreatedAt).ThenBy(c => c.Attempt).ToListAsync(Ct);
            Assert.Equal([(1, CommandStatus.Cancelled), (2, CommandStatus.Pending)], commands.Select(c => (c.Attempt, c.Status)));
        }

        clock.Advance(timeout + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await pump.SweepTimeoutsAsync(Ct));
        clock.Advance(timeout + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await pump.SweepTimeoutsAsync(Ct));

        await using (var context = TestFleet.Context(db))
        {
            var recovery = await context.Recoveries.SingleAsync(Ct);
            Assert.Equal(RecoveryState.Failed, recovery.State);
            Assert.Equal($"NetworkBoot failed 3 times; last: timed out after {timeout:g}", recovery.FailureReason);
            Assert.Equal(0, await context.AgentCommands.CountAsync(c => c.Status == CommandStatus.Pending || c.Status == CommandStatus.Leased, Ct));
        }

        clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await pump.SweepTimeoutsAsync(Ct)); // a Failed machine waits for a lead, not for the sweeper

        // The lead retries; it fails again: twice out of retries points at the hardware, so it is quarantined.
        var lead = new LeadActions(db, writer, new WorkflowKick(Moq.Mock.Of<Hangfire.IBackgroundJobClient>()));
        var retried = Assert.Single(await lead.ApplyAsync(LeadAction.Retry, [machine], null, new Actor("lead", "test"), Ct));
        Assert.True(retried.Done, retried.Result);
        clock.Advance(timeout + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await pump.SweepTimeoutsAsync(Ct));
        await using (var context = TestFleet.Context(db))
        {
            var recovery = await context.Recoveries.SingleAsync(Ct);
            Assert.Equal((RecoveryState.Quarantined, 2), (recovery.State, recovery.Failures));
            Assert.StartsWith("quarantined after running out of retries 2 times", recovery.FailureReason, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Drive replacements admitted ten minutes before the only technician's 08:00–17:00 shift ends: their 8-hour
    /// hands-on timeout counts shift time, so they wait the night (the forecast assumes they do) and time out only after
    /// eight hours on shift: ten minutes on Tuesday, 7 h 50 min on Wednesday.
    /// </summary>
    [Fact]
    public async Task Sweep_HandsOnStep_CountsOnlyTimeOnShift_SoMachinesWaitTheNightForTheMorningShift()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 16, 50, 0, TimeSpan.Zero)); // Tuesday, London time = UTC
        var site = await TestFleet.AddSiteAsync(db, "NIGHT");
        await TestFleet.AddTechnicianAsync(db, site, "Ana", starts: new TimeOnly(8, 0), ends: new TimeOnly(17, 0));
        await TestFleet.StockAsync(db, site, "ssd", 5);
        await TestFleet.LaunchWaveAsync(db, "W", await TestFleet.AddMachinesAsync(db, site, 3, "DR", RecoveryPath.DriveReplacement, "ssd"));
        var pump = new WorkflowPump(db, new TransitionWriter(clock), Options.Create(new WorkflowOptions()), clock, NullLogger<WorkflowPump>.Instance);
        Assert.Equal(3, await TestFleet.Dispatcher(db, clock).DispatchAsync(Ct));

        clock.SetUtcNow(new DateTimeOffset(2026, 11, 25, 7, 59, 0, TimeSpan.Zero)); // 15 hours on, nobody on shift since 17:00
        Assert.Equal(0, await pump.SweepTimeoutsAsync(Ct));
        clock.SetUtcNow(new DateTimeOffset(2026, 11, 25, 15, 49, 0, TimeSpan.Zero)); // 7 h 59 min on shift
        Assert.Equal(0, await pump.SweepTimeoutsAsync(Ct));
        Assert.Equal(3L, await TestFleet.CountAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE state = 'InProgress' AND step = 'RemoveDrive'"));

        clock.SetUtcNow(new DateTimeOffset(2026, 11, 25, 15, 51, 0, TimeSpan.Zero)); // 8 h 1 min on shift
        Assert.Equal(3, await pump.SweepTimeoutsAsync(Ct));
        Assert.Equal(["RemoveDrive failed 1 times; last: timed out after 8:00:00"],
            (await TestFleet.ColumnAsync<string>(db, "SELECT failure_reason FROM reimage.recoveries")).Distinct());
    }

    /// <summary>
    /// Six drive replacements waiting the night (old, but not due: their clock runs on shift only) come before a due
    /// network boot in the sweep's order; with pages of two, the sweep still reaches and times out the network boot.
    /// </summary>
    [Fact]
    public async Task Sweep_ReachesADueStep_BehindMoreWaitingHandsOnStepsThanOneBatch()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 16, 50, 0, TimeSpan.Zero));
        var site = await TestFleet.AddSiteAsync(db, "PAGE", handsOnPerTechnician: 6);
        await TestFleet.AddTechnicianAsync(db, site, "Ana", starts: new TimeOnly(8, 0), ends: new TimeOnly(17, 0));
        await TestFleet.StockAsync(db, site, "ssd", 6);
        await TestFleet.LaunchWaveAsync(db, "W", await TestFleet.AddMachinesAsync(db, site, 6, "DR", RecoveryPath.DriveReplacement, "ssd"));
        Assert.Equal(6, await TestFleet.Dispatcher(db, clock).DispatchAsync(Ct));
        var writer = new TransitionWriter(clock);
        var booting = (await TestFleet.AddMachinesAsync(db, site, 1, "NB"))[0]; // created last: the highest id
        await MoveToNetworkBootAsync(db, writer, booting);
        var pump = new WorkflowPump(db, writer, Options.Create(new WorkflowOptions { BatchSize = 2, RetryBackoff = TimeSpan.Zero }), clock, NullLogger<WorkflowPump>.Instance);

        clock.Advance(RecoveryPaths.Definition(RecoveryPath.Reformat, Step.NetworkBoot).Timeout + TimeSpan.FromMinutes(1));

        Assert.Equal(1, await pump.SweepTimeoutsAsync(Ct));
        Assert.Equal(2, await TestFleet.ScalarAsync<int>(db, $"SELECT attempt FROM reimage.recoveries WHERE machine_id = '{booting}'"));
        Assert.Equal(6L, await TestFleet.CountAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE step = 'RemoveDrive' AND attempt = 1"));
    }

    [Theory]
    [InlineData(8, 17, "2026-11-24T16:50", "2026-11-25T09:00", 70)] // 10 min on Tuesday, an hour on Wednesday
    [InlineData(19, 7, "2026-11-23T20:00", "2026-11-24T09:00", 660)] // a night shift from 20:00 to its end at 07:00
    [InlineData(0, 0, "2026-11-23T20:00", "2026-11-24T09:00", 780)] // round the clock
    public void CoveredBetween_CountsTheShiftsHours_InTheInterval(int starts, int ends, string from, string to, int minutes)
    {
        var shifts = new[] { (Sites.ShiftDays.EveryDay, new TimeOnly(starts, 0), new TimeOnly(ends, 0)) };
        var (f, t) = (DateTimeOffset.Parse(from + "Z", System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse(to + "Z", System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(TimeSpan.FromMinutes(minutes), Sites.Shift.CoveredBetween(shifts, TimeZoneInfo.Utc, f, t));
    }

    private static async Task MoveToNetworkBootAsync(NpgsqlDataSource db, TransitionWriter writer, Guid machine)
    {
        await using var connection = await db.OpenConnectionAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        foreach (var (version, from, to, step) in new[]
        {
            (0L, RecoveryState.NotPlanned, RecoveryState.Planned, (Step?)null),
            (1L, RecoveryState.Planned, RecoveryState.Queued, null),
            (2L, RecoveryState.Queued, RecoveryState.InProgress, Step.NetworkBoot),
        })
        {
            await writer.WriteAsync(connection, transaction, [new Transition(machine, version, RecoveryPath.Reformat, from, to, step, step is null ? 0 : 1, null)], Actor.System("test"), Ct);
        }

        await transaction.CommitAsync(Ct);
    }
}
