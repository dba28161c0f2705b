using Reimage.Orchestrator.Infrastructure;

namespace Reimage.Dashboard.Tests.Workflow;

/// <summary>
/// Hangfire.PostgreSql is configured for a recovery, not for its low-load defaults (15 s poll, 30 min re-run).
/// In-process enqueues wake workers through an in-memory signal whatever the settings, so pick-up latency across
/// nodes and re-runs after a crash are proven with real processes by the workflow-engine's reliability tests;
/// this pins the settings those rely on.
/// </summary>
public sealed class HangfireTuningTests
{
    [Fact]
    public void Storage_ListensForNewJobs_AndRerunsAbandonedJobsWithinMinutes()
    {
        var options = Reimage.Orchestrator.Infrastructure.Jobs.StorageOptions();

        Assert.True(options.EnableLongPolling, "other nodes' enqueues must wake workers through LISTEN/NOTIFY");
        Assert.True(options.QueuePollInterval <= TimeSpan.FromSeconds(1));
        Assert.True(options.InvisibilityTimeout <= TimeSpan.FromMinutes(5));
        Assert.True(options.UseSlidingInvisibilityTimeout, "a long-running job must keep its claim instead of being re-run");
        Assert.Equal(Jobs.Schema, options.SchemaName);
    }
}
