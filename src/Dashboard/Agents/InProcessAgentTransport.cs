using Reimage.Agents.Protocol;
using Reimage.Orchestrator.Agents;
using AgentCommand = Reimage.Agents.Protocol.AgentCommand;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Agents;

/// <summary>
/// The agent transport for an agent hosted inside the server process (the demo's simulated fleet): the same
/// command queue the HTTPS endpoints use, without the network hop.
/// </summary>
public sealed class InProcessAgentTransport(AgentCommandQueue queue, WorkflowKick kick, Guid siteId, string agentId, TimeSpan? lease = null) : IAgentTransport
{
    /// <summary>How long a fetched command is the agent's before it is offered again (the agent may have died with it).</summary>
    private readonly TimeSpan _lease = lease ?? TimeSpan.FromMinutes(5);

    public async Task<IReadOnlyList<AgentCommand>> FetchAsync(int max, CancellationToken ct)
    {
        var leased = await queue.LeaseAsync(siteId, agentId, max, _lease, ct);
        return leased.Select(c => new AgentCommand(c.Id, c.MachineId, c.Kind, c.Attempt, c.Hostname, c.MacAddresses, c.IpAddress, c.BmcAddress)).ToList();
    }

    public async Task ReportAsync(IReadOnlyList<CommandResult> results, CancellationToken ct)
    {
        var recorded = await queue.CompleteAsync(siteId, results.Select(r => new CommandOutcome(r.CommandId, r.Succeeded, r.Detail)).ToList(), ct);
        if (recorded > 0)
        {
            kick.Kick();
        }
    }
}
