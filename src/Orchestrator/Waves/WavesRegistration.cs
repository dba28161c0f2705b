using Microsoft.Extensions.DependencyInjection;

namespace Reimage.Orchestrator.Waves;

public static class WavesRegistration
{
    /// <summary>Planning, approving and launching waves.</summary>
    public static IServiceCollection AddWavePlanning(this IServiceCollection services)
    {
        services.AddSingleton<WavePlanner>();
        return services;
    }
}
