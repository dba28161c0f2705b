using System.Runtime.InteropServices;
using Microsoft.Management.Infrastructure;
using Reimage.Agents.Protocol;

namespace Reimage.Agents.Drivers;

/// <summary>
/// Carries out <c>verify</c>: reads the freshly imaged machine over CIM/WS-Man and judges it with
/// <see cref="VerificationPolicy"/> (right build, right name, joined to the right domain, security agent running, no
/// indicator of compromise left). A Linux site agent cannot do this and says so, rather than failing obscurely in MMI.
/// </summary>
public sealed class CimVerifier(CimVerificationOptions options, ILogger<CimVerifier> logger) : IMachineDriver
{
    public const string Kind = "verify";

    /// <summary>How a non-Windows agent's refusal starts, so the server and the technician can tell it from a failed check.</summary>
    public const string RequiresWindows = "CIM verification requires a Windows agent";

    public async Task<CommandResult> ExecuteAsync(LeasedCommand command, CancellationToken ct)
    {
        if (command.Kind != Kind)
        {
            return Fail(command, $"the CIM verifier cannot do '{command.Kind}'");
        }

        if (!OperatingSystem.IsWindows())
        {
            return Fail(command, $"{RequiresWindows}; this agent runs on {RuntimeInformation.OSDescription}");
        }

        // The hostname first: Kerberos and the machine's TLS certificate are both issued to the name, not the address.
        var target = string.IsNullOrWhiteSpace(command.Hostname) ? command.IpAddress : command.Hostname;
        if (string.IsNullOrWhiteSpace(target))
        {
            return Fail(command, "no hostname or IP address to verify");
        }

        MachineFacts facts;
        try
        {
            facts = await CimFactCollector.CollectAsync(target, options, ct);
        }
        catch (CimException e) when (!ct.IsCancellationRequested)
        {
            return Fail(command, $"{command.Hostname}: CIM query to {target} failed ({e.NativeErrorCode}: {e.Message})");
        }

        var outcome = VerificationPolicy.Evaluate(facts, options, command);
        if (!outcome.Passed)
        {
            return Fail(command, $"{command.Hostname}: verification failed: {string.Join("; ", outcome.Failures)}");
        }

        logger.LogInformation("{Hostname} ({MachineId}) verified: {Caption} build {Build}, domain {Domain}", command.Hostname, command.MachineId, facts.OsCaption, facts.OsBuildNumber, facts.Domain);
        return new CommandResult(command.Id, true,
            $"{command.Hostname}: verified ({facts.OsCaption} build {facts.OsBuildNumber}, {facts.Domain}, {options.SecurityAgentService} running, {options.IocFiles.Count + options.IocServices.Count} IOCs absent)");
    }

    private CommandResult Fail(LeasedCommand command, string detail)
    {
        logger.LogWarning("Verification of {MachineId} failed: {Detail}", command.MachineId, detail);
        return new CommandResult(command.Id, false, detail);
    }
}
