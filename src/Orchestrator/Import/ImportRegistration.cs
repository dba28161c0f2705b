using Microsoft.Extensions.DependencyInjection;

namespace Reimage.Orchestrator.Import;

public static class ImportRegistration
{
    /// <summary>The fleet import.</summary>
    public static IServiceCollection AddFleetImport(this IServiceCollection services)
    {
        services.AddSingleton<FleetImporter>();
        return services;
    }
}
