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
