using Microsoft.Extensions.DependencyInjection;

namespace Reimage.Orchestrator.Scheduling;

public static class SchedulingRegistration
{
    /// <summary>The capacity-aware dispatcher the pump runs.</summary>
    public static IServiceCollection AddDispatcher(this IServiceCollection services)
    {
        services.AddSingleton<Dispatcher>();
        return services;
    }
}
