using Microsoft.Extensions.DependencyInjection;

namespace Reimage.Orchestrator.Import;

public static class ImportRegistration
{
    /// <summary>The fleet import and its site rules.</summary>
    public static IServiceCollection AddFleetImport(this IServiceCollection services)
    {
        services.AddSingleton<FleetImporter>();
        services.AddSingleton<SiteRules>();
        return services;
    }
}
