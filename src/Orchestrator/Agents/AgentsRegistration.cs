using Microsoft.Extensions.DependencyInjection;

namespace Reimage.Orchestrator.Agents;

public static class AgentsRegistration
{
    /// <summary>The agents' command queue and their enrolment.</summary>
    public static IServiceCollection AddAgentCommands(this IServiceCollection services)
    {
        services.AddSingleton<AgentCommandQueue>();
        services.AddSingleton<AgentRegistry>();
        return services;
    }
}
