using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Reimage.Agents.Protocol;
using Reimage.Orchestrator.Agents;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Orchestrator.Tests.Agents;

public sealed class AgentCommandQueueTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lease_ByTwoAgentsAtOnce_NeverHandsOutTheSameCommandTwice()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var (site, _) = await SiteWithCommandsAsync(db, "LEASE", 40);
        var queue = new AgentCommandQueue(db, TimeProvider.System);

        var batches = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => queue.LeaseAsync(site.Id, $"agent-{i}", 15, TimeSpan.FromMinutes(5), Ct)));

        var ids = batches.SelectMany(b => b).Select(c => c.Id).ToList();
        Assert.Equal(40, ids.Count);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task Lease_AfterTheLeaseExpires_OffersTheCommandAgain()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var (site, _) = await SiteWithCommandsAsync(db, "EXPIRE", 1);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var queue = new AgentCommandQueue(db, clock);

        var first = await queue.LeaseAsync(site.Id, "agent-a", 10, TimeSpan.FromMinutes(5), Ct);
        var whileLeased = await queue.LeaseAsync(site.Id, "agent-b", 10, TimeSpan.FromMinutes(5), Ct);
        clock.Advance(TimeSpan.FromMinutes(6));
        var afterExpiry = await queue.LeaseAsync(site.Id, "agent-b", 10, TimeSpan.FromMinutes(5), Ct);

        Assert.Single(first);
        Assert.Empty(whileLeased);
        Assert.Equal(first[0].Id, Assert.Single(afterExpiry).Id);
    }

    [Fact]
    public async Task Complete_RepeatedOrFromAnotherSite_IsRecordedExactlyOnce()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var (site, _) = await SiteWithCommandsAsync(db, "ONCE", 1);
        var other = await TestFleet.AddSiteAsync(db, "OTHER");
        var queue = new AgentCommandQueue(db, TimeProvider.System);
        var command = Assert.Single(await queue.LeaseAsync(site.Id, "agent", 10, TimeSpan.FromMinutes(5), Ct));

        var fromOtherSite = await queue.CompleteAsync(other.Id, [new CommandResult(command.Id, false, "forged")], Ct);
        var first = await queue.CompleteAsync(site.Id, [new CommandResult(command.Id, true, "ok")], Ct);
        var replay = await queue.CompleteAsync(site.Id, [new CommandResult(command.Id, false, "late duplicate")], Ct);

        Assert.Equal((0, 1, 0), (fromOtherSite.Recorded, first.Recorded, replay.Recorded));
        await using var context = TestFleet.Context(db);
        var stored = await context.AgentCommands.SingleAsync(c => c.Id == command.Id, Ct);
        Assert.Equal((CommandStatus.Completed, true, "ok"), (stored.Status, stored.Succeeded, stored.Detail));
    }

    [Fact]
    public async Task Lease_NeverReturnsAnotherSitesCommands()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        await SiteWithCommandsAsync(db, "MINE", 3);
        var (theirs, _) = await SiteWithCommandsAsync(db, "THEIRS", 2);
        var queue = new AgentCommandQueue(db, TimeProvider.System);

        var leased = await queue.LeaseAsync(theirs.Id, "agent", 100, TimeSpan.FromMinutes(5), Ct);

        Assert.Equal(2, leased.Count);
        Assert.All(leased, c => Assert.StartsWith("THEIRS-", c.Hostname, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Complete_APoisonResult_IsRefusedWithItsReason_AndItsBatchMatesAreRecorded()
    {
        // A BMC's error page pasted into a driver's message: a NUL, half a surrogate pair, 10,000 characters.
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var (site, _) = await SiteWithCommandsAsync(db, "POISON", 4);
        var queue = new AgentCommandQueue(db, TimeProvider.System);
        var leased = await queue.LeaseAsync(site.Id, "agent", 10, TimeSpan.FromMinutes(5), Ct);

        var receipt = await queue.CompleteAsync(site.Id,
        [
            new CommandResult(leased[0].Id, false, "HTTP 500 \0 from the BMC"),
            new CommandResult(leased[1].Id, true, "woken"),
            new CommandResult(leased[2].Id, false, "half a pair: \uD83D"),
            new CommandResult(leased[3].Id, false, new string('x', 10_000)),
        ], Ct);

        Assert.Equal((4, 1), (receipt.Received, receipt.Recorded));
        Assert.Equal([leased[0].Id, leased[2].Id, leased[3].Id], receipt.Refused.Select(r => r.CommandId));
        Assert.Contains("NUL", receipt.Refused[0].Reason, StringComparison.Ordinal);
        Assert.Contains("unpaired surrogate", receipt.Refused[1].Reason, StringComparison.Ordinal);
        Assert.Contains("10,000", receipt.Refused[2].Reason, StringComparison.Ordinal);
        Assert.Equal(1L, await TestFleet.CountAsync(db, "SELECT count(*) FROM reimage.agent_commands WHERE status = 'Completed'"));
    }

    [Fact]
    public async Task Lease_NeverOffersASharedMacAsAWakeTarget()
    {
        // A dock's MAC is on every laptop that used the dock: a magic packet to it wakes whichever laptop sits there now.
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var (site, machines) = await SiteWithCommandsAsync(db, "DOCK", 1);
        await using (var command = db.CreateCommand(
            "UPDATE reimage.machines SET mac_addresses = '{00:E0:4C:68:00:01,8C:8C:AA:01:02:03}', shared_mac_addresses = '{00:E0:4C:68:00:01}' WHERE id = $1"))
        {
            command.Parameters.AddWithValue(machines[0]);
            await command.ExecuteNonQueryAsync(Ct);
        }

        var leased = Assert.Single(await new AgentCommandQueue(db, TimeProvider.System).LeaseAsync(site.Id, "agent", 10, TimeSpan.FromMinutes(5), Ct));

        Assert.Equal(["8C:8C:AA:01:02:03"], leased.MacAddresses);
    }

    /// <summary>A site whose machines are each at their first step, so each has one pending network-boot command.</summary>
    private static async Task<(Site Site, Guid[] Machines)> SiteWithCommandsAsync(NpgsqlDataSource db, string code, int machines)
    {
        var site = await TestFleet.AddSiteAsync(db, code);
        var ids = await TestFleet.AddMachinesAsync(db, site, machines);
        var writer = new TransitionWriter(TimeProvider.System);
        await using var connection = await db.OpenConnectionAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await writer.WriteAsync(connection, transaction,
            ids.Select(id => new Transition(id, 0, RecoveryPath.Reformat, RecoveryState.NotPlanned, RecoveryState.Planned, null, 0, null)).ToList(), Actor.System("test"), Ct);
        await writer.WriteAsync(connection, transaction,
            ids.Select(id => new Transition(id, 1, RecoveryPath.Reformat, RecoveryState.Planned, RecoveryState.Queued, null, 0, null)).ToList(), Actor.System("test"), Ct);
        await writer.WriteAsync(connection, transaction,
            ids.Select(id => new Transition(id, 2, RecoveryPath.Reformat, RecoveryState.Queued, RecoveryState.InProgress, Step.NetworkBoot, 1, null)).ToList(), Actor.System("test"), Ct);
        await transaction.CommitAsync(Ct);
        return (site, ids);
    }
}
