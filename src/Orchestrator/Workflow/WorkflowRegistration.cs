using Microsoft.Extensions.DependencyInjection;

namespace Reimage.Orchestrator.Workflow;

public static class WorkflowRegistration
{
    /// <summary>The workflow: options, the transition writer, the pump and its job, the kick, and the leads' actions.</summary>
    public static IServiceCollection AddWorkflowEngine(this IServiceCollection services)
    {
        services.AddOptions<WorkflowOptions>().BindConfiguration(WorkflowOptions.Section)
            .Validate(o => o.RetryBackoff >= TimeSpan.Zero && o.BatchSize > 0 && o.QuarantineAfterFailures >= 1,
                "Reimage:Workflow needs a non-negative RetryBackoff, a positive BatchSize and QuarantineAfterFailures of at least 1.").ValidateOnStart();
        services.AddSingleton<TransitionWriter>();
        services.AddSingleton<WorkflowPump>();
        services.AddSingleton(sp => new WorkflowKick(sp.GetRequiredService<Hangfire.IBackgroundJobClient>(), sp.GetRequiredService<Npgsql.NpgsqlDataSource>()));
        services.AddTransient<WorkflowPumpJob>();
        services.AddSingleton<LeadActions>();
        return services;
    }
}
