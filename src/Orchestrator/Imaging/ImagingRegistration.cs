using Microsoft.Extensions.DependencyInjection;

namespace Reimage.Orchestrator.Imaging;

public static class ImagingRegistration
{
    /// <summary>Phone-home reports and the golden image catalogue.</summary>
    public static IServiceCollection AddImaging(this IServiceCollection services)
    {
        services.AddSingleton<PhoneHome>();
        services.AddSingleton<ImageCatalog>();
        return services;
    }
}
