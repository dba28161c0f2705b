using Microsoft.EntityFrameworkCore;
using Npgsql;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Orchestrator.Tests.Workflow;

public sealed class TransitionWriterTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Write_WhenTwoWritersRaceOnTheSameVersion_OnlyOneWinsAndOneEventIsAppended()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var site = await TestFleet.AddSiteAsync(db, "RACE");
        var machine = (await TestFleet.AddMachinesAsync(db, site, 1))[0];
        var writer = new TransitionWriter(TimeProvider.System);
        var planned = new Transition(machine, 0, RecoveryPath.Reformat, RecoveryState.NotPlanned, RecoveryState.Planned, null, 0, null);
        var skipped = planned with { To = RecoveryState.Skipped };

        var results = await Task.WhenAll(WriteAsync(db, writer, planned), WriteAsync(db, writer, skipped));

        Assert.Equal(1, results.Sum(r => r.Count));
        await using var context = TestFleet.Context(db);
        var recovery = await context.Recoveries.SingleAsync(r => r.MachineId == machine, Ct);
        Assert.Equal(1, recovery.Version);
        Assert.Equal(results[0].Count == 1 ? RecoveryState.Planned : RecoveryState.Skipped, recovery.State);
        Assert.Equal(1, await context.MachineEvents.CountAsync(e => e.MachineId == machine, Ct));
    }

    [Fact]
    public async Task Write_ToAutomatedStep_IssuesOneCommandAndWithdrawsTheOldOne()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var site = await TestFleet.AddSiteAsync(db, "CMD");
        var machine = (await TestFleet.AddMachinesAsync(db, site, 1))[0];
        var writer = new TransitionWriter(TimeProvider.System);

        await WriteAsync(db, writer, new Transition(machine, 0, RecoveryPath.Reformat, RecoveryState.NotPlanned, RecoveryState.Planned, null, 0, null));
        await WriteAsync(db, writer, new Transition(machine, 1, RecoveryPath.Reformat, RecoveryState.Planned, RecoveryState.Queued, null, 0, null));
        await WriteAsync(db, writer, new Transition(machine, 2, RecoveryPath.Reformat, RecoveryState.Queued, RecoveryState.InProgress, Step.NetworkBoot, 1, null));
        await WriteAsync(db, writer, new Transition(machine, 3, RecoveryPath.Reformat, RecoveryState.InProgress, RecoveryState.InProgress, Step.Imaging, 1, null));

        await using var context = TestFleet.Context(db);
        var commands = await context.AgentCommands.Where(c => c.MachineId == machine).OrderBy(c => c.CreatedAt).ToListAsync(Ct);
        Assert.Equal(["network-boot", "await-imaging"], commands.Select(c => c.Kind));
        Assert.Equal([Orchestrator.Agents.CommandStatus.Cancelled, Orchestrator.Agents.CommandStatus.Pending], commands.Select(c => c.Status));
        var events = await context.MachineEvents.Where(e => e.MachineId == machine).OrderBy(e => e.Id).ToListAsync(Ct);
        Assert.Equal(["Planned", "Queued", "InProgress", "InProgress"], events.Select(e => e.ToState));
        Assert.All(events, e => Assert.Equal("Europe/London", e.TimeZone));
    }

    [Fact]
    public async Task Write_IllegalMove_ThrowsAndWritesNothing()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var site = await TestFleet.AddSiteAsync(db, "BAD");
        var machine = (await TestFleet.AddMachinesAsync(db, site, 1))[0];
        var writer = new TransitionWriter(TimeProvider.System);

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            WriteAsync(db, writer, new Transition(machine, 0, RecoveryPath.Reformat, RecoveryState.NotPlanned, RecoveryState.Restored, null, 0, null)));

        await using var context = TestFleet.Context(db);
        Assert.Equal(RecoveryState.NotPlanned, (await context.Recoveries.SingleAsync(r => r.MachineId == machine, Ct)).State);
        Assert.Equal(0, await context.MachineEvents.CountAsync(Ct));
    }

    private static async Task<IReadOnlyList<Transition>> WriteAsync(NpgsqlDataSource db, TransitionWriter writer, Transition transition)
    {
        await using var connection = await db.OpenConnectionAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        var won = await writer.WriteAsync(connection, transaction, [transition], Actor.System("test"), Ct);
        await transaction.CommitAsync(Ct);
        return won;
    }
}
