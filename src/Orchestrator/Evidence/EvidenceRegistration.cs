using Microsoft.Extensions.DependencyInjection;

namespace Reimage.Orchestrator.Evidence;

public static class EvidenceRegistration
{
    /// <summary>The only writer of evidence and custody.</summary>
    public static IServiceCollection AddEvidenceCustody(this IServiceCollection services)
    {
        services.AddSingleton<Custody>();
        return services;
    }
}
