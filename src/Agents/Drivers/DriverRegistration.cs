using Reimage.Agents.Protocol;
using Reimage.Agents.Simulation;

namespace Reimage.Agents.Drivers;

/// <summary>Wires the agent's driver: the simulated fleet, or the real drivers by command kind.</summary>
public static class DriverRegistration
{
    public static HostApplicationBuilder AddAgentDrivers(this HostApplicationBuilder builder, AgentSettings settings)
    {
        if (settings.Driver == "simulated")
        {
            builder.Services.AddSingleton<IMachineDriver>(sp =>
            {
                var steps = new SimulatedFleetOptions().Steps.ToDictionary(s => s.Key, s => settings.SimulationFailures ? s.Value : s.Value with { FailureRate = 0 });
                var fleet = new SimulatedFleet(new SimulatedFleetOptions { Speed = settings.SimulationSpeed, Steps = steps }, sp.GetRequiredService<TimeProvider>());
                return settings.SimulationJournal is null ? fleet : new JournalingDriver(fleet, settings.SimulationJournal);
            });
            return builder;
        }

        throw new NotSupportedException("real drivers: wired after the drivers land");
    }
}
