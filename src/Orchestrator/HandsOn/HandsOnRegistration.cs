using Microsoft.Extensions.DependencyInjection;

namespace Reimage.Orchestrator.HandsOn;

public static class HandsOnRegistration
{
    /// <summary>Technicians' check-offs and the assignment of hands-on work.</summary>
    public static IServiceCollection AddHandsOnWork(this IServiceCollection services)
    {
        services.AddSingleton<HandsOnSteps>();
        services.AddSingleton<TechnicianWork>();
        return services;
    }
}
