using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Reimage.Orchestrator.Agents;
using Reimage.Orchestrator.Audit;
using Reimage.Orchestrator.Evidence;
using Reimage.Orchestrator.HandsOn;
using Reimage.Orchestrator.Imaging;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Scheduling;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Infrastructure;

public static class Jobs
{
    public const string Schema = "hangfire";

    /// <summary>
    /// Hangfire on PostgreSQL, tuned for a recovery rather than for Hangfire's low-load defaults: jobs are picked up
    /// through LISTEN/NOTIFY as soon as they are enqueued (not after a 15 s poll), and a job whose worker died is
    /// re-run after 2 minutes (not 30): running jobs keep their claim alive with a sliding invisibility timeout.
    /// </summary>
    public static IHostApplicationBuilder AddReimageWorkflow(this IHostApplicationBuilder builder, bool runServer = true)
    {
        var connectionString = builder.Configuration.GetConnectionString(Storage.ConnectionStringName)
            ?? throw new InvalidOperationException("AddReimageStorage must run before AddReimageWorkflow.");
        builder.Services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(c => c.UseNpgsqlConnection(connectionString), StorageOptions()));
        if (runServer)
        {
            builder.Services.AddHangfireServer(options =>
            {
                options.WorkerCount = Math.Max(4, Environment.ProcessorCount * 2);
                options.SchedulePollingInterval = TimeSpan.FromSeconds(1);
                options.ShutdownTimeout = TimeSpan.FromSeconds(10);
            });
            builder.Services.AddHostedService<RecurringJobsRegistration>();
        }

        // The engine, feature by feature.
        builder.Services.AddWorkflowEngine().AddDispatcher().AddStockroom().AddWavePlanning().AddHandsOnWork()
            .AddEvidenceCustody().AddAgentCommands().AddImaging().AddFleetImport().AddAuditCheckpoints();
        return builder;
    }

    public static PostgreSqlStorageOptions StorageOptions() => new()
    {
        SchemaName = Schema,
        PrepareSchemaIfNecessary = true,
        EnableLongPolling = true,
        QueuePollInterval = TimeSpan.FromSeconds(1),
        InvisibilityTimeout = TimeSpan.FromMinutes(2),
        UseSlidingInvisibilityTimeout = true,
        DistributedLockTimeout = TimeSpan.FromSeconds(30),
        JobExpirationCheckInterval = TimeSpan.FromMinutes(15),
    };
}

/// <summary>
/// Registers the recurring reconciler and the audit checkpoint once the server is up, and runs the pump once straight away: after a restart,
/// queued machines and results recorded before the stop must not wait for the next minute.
/// </summary>
internal sealed class RecurringJobsRegistration(IRecurringJobManager recurring, WorkflowKick kick, Checkpoints checkpoints) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        recurring.AddOrUpdate<WorkflowPumpJob>(WorkflowPumpJob.RecurringId, job => job.RunAsync(CancellationToken.None), Cron.Minutely());
        // Signed checkpoints each minute (the key is loaded, or generated, now: at first start, not at the first seal).
        _ = checkpoints.KeyId;
        recurring.AddOrUpdate<AuditCheckpointJob>(AuditCheckpointJob.RecurringId, job => job.RunAsync(CancellationToken.None), Cron.Minutely());
        kick.Kick();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
