using Microsoft.Extensions.DependencyInjection;

namespace Reimage.Orchestrator.Sites;

public static class SitesRegistration
{
    /// <summary>Spare stock and deliveries.</summary>
    public static IServiceCollection AddStockroom(this IServiceCollection services)
    {
        services.AddSingleton<Stockroom>();
        return services;
    }
}
