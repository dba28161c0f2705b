using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Moq;
using Npgsql;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Orchestrator.Tests.Workflow;

/// <summary>
/// Two nodes on one database, each with its own kick, as two web nodes with a Hangfire server each are: the pump job
/// one node enqueued is often run by the other. Hangfire's client is the process edge here (a recording double).
/// </summary>
public sealed class WorkflowKickTests(PostgresFixture postgres)
{
    [Fact]
    public async Task AJobRunByTheOtherNode_LetsThisNodeKickAgain_AndTwoNodesNeverQueueTwoJobsAtOnce()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var (nodeA, enqueuedByA) = Node(db);
        var (nodeB, enqueuedByB) = Node(db);

        nodeA.Kick();          // results reach node A: a job is queued
        nodeB.Kick();          // results reach node B while it is pending: nothing more to queue
        nodeB.Started();       // node B's worker runs the job that A queued
        nodeA.Kick();          // more results at A: before, A's own mark was still set and nothing was queued until the reconciler

        Assert.Equal(2, enqueuedByA.Count);
        Assert.Empty(enqueuedByB);
    }

    private static (WorkflowKick Kick, List<Job> Enqueued) Node(NpgsqlDataSource db)
    {
        var enqueued = new List<Job>();
        var client = new Mock<IBackgroundJobClient>();
        client.Setup(c => c.Create(It.IsAny<Job>(), It.IsAny<IState>()))
            .Callback<Job, IState>((job, _) => enqueued.Add(job))
            .Returns(() => Guid.NewGuid().ToString());
        return (new WorkflowKick(client.Object, db), enqueued);
    }
}
