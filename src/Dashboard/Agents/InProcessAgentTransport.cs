using Reimage.Agents.Protocol;
using Reimage.Orchestrator.Agents;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Agents;

/// <summary>
/// The agent transport for an agent hosted inside the server process (the demo's simulated fleet): the same
/// command queue the HTTPS endpoints use, without the network hop.
/// </summary>
/// <param name="lease">
/// How long a fetched command is the agent's before it is offered again (the agent may have died with it);
/// <c>Reimage:Agents:Lease</c>'s default when not given.
/// </param>
public sealed class InProcessAgentTransport(AgentCommandQueue queue, WorkflowKick kick, Guid siteId, string agentId, TimeSpan? lease = null) : IAgentTransport
{
    private readonly TimeSpan _lease = lease ?? new AgentOptions().Lease;

    public Task<IReadOnlyList<LeasedCommand>> FetchAsync(int max, CancellationToken ct) => queue.LeaseAsync(siteId, agentId, max, _lease, ct);

    public async Task<ResultsReceipt> ReportAsync(IReadOnlyList<CommandResult> results, CancellationToken ct)
    {
        var receipt = await queue.CompleteAsync(siteId, results, ct);
        if (receipt.Recorded > 0)
        {
            kick.Kick();
        }

        return receipt;
    }
}
