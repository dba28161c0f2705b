using System.Text.Json.Serialization;

namespace Reimage.Agents.Protocol;

/// <summary>
/// One command as the server hands it to an agent under a lease: do <see cref="Kind"/> to one machine, as attempt
/// <see cref="Attempt"/> of the recovery's <see cref="Step"/>. The lease lapses if no result comes back in time, and
/// the command is offered again with the same <see cref="Id"/>.
/// </summary>
public sealed record LeasedCommand(
    Guid Id, Guid MachineId, string Kind, string Step, int Attempt,
    string Hostname, IReadOnlyList<string> MacAddresses, string? IpAddress, string? BmcAddress, string? SerialNumber = null);

/// <summary>The agent's answer to one command. Reported at least once; the server records it once.</summary>
/// <remarks>
/// <see cref="Detail"/> is read as it comes, whatever the host's JSON rules for text: the server judges each result's
/// detail on its own (<see cref="WireText.Problem"/>), so that one bad detail cannot get its whole batch refused.
/// </remarks>
public sealed record CommandResult(Guid CommandId, bool Succeeded, [property: JsonConverter(typeof(WireText.AsSent))] string? Detail)
{
    /// <summary>The longest <see cref="Detail"/> the server stores.</summary>
    public const int MaxDetailLength = 2000;
}

/// <summary>A result the server will never record, and why: the agent drops it instead of sending it again.</summary>
public sealed record RefusedResult(Guid CommandId, string Reason);

/// <summary>
/// How an agent reaches the server: in-process for the single-machine demo, HTTPS for a site agent.
/// The edge of the agent process, and the seam tests mock.
/// </summary>
public interface IAgentTransport
{
    /// <summary>Claims up to <paramref name="max"/> commands for this agent's site; empty when there is nothing to do.</summary>
    Task<IReadOnlyList<LeasedCommand>> FetchAsync(int max, CancellationToken ct);

    /// <summary>
    /// Reports results; safe to repeat (the server keeps the first result of each command). The receipt lists the
    /// results the server refused on their own (their batch mates are recorded). Throws
    /// <see cref="BatchRefusedException"/> when the server refuses the whole batch for good.
    /// </summary>
    Task<ResultsReceipt> ReportAsync(IReadOnlyList<CommandResult> results, CancellationToken ct);
}

/// <summary>Carries out commands on machines: Wake-on-LAN, Redfish, CIM, or a simulated fleet.</summary>
public interface IMachineDriver
{
    Task<CommandResult> ExecuteAsync(LeasedCommand command, CancellationToken ct);
}

/// <summary>The server answered that it will never accept this batch (400, 413, 415, 422): sending it again cannot help.</summary>
public sealed class BatchRefusedException(string message) : Exception(message);

/// <summary>The server refused this agent's credential (revoked, rotated elsewhere, or mistyped): re-enrol.</summary>
public sealed class CredentialRejectedException(string message = "The server refused this agent's credential; it was revoked or replaced. Enrol again with a new token.")
    : Exception(message);
