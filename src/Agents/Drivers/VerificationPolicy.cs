using Reimage.Agents.Protocol;

namespace Reimage.Agents.Drivers;

/// <summary>The verdict on one machine: every failed check, each starting with the check's name.</summary>
public sealed record VerificationOutcome(IReadOnlyList<string> Failures)
{
    public bool Passed => Failures.Count == 0;
}

/// <summary>
/// Decides whether a reimaged machine may go back to its user. Pure, so every rule is tested without a Windows machine;
/// every check runs even after one fails, so the technician sees all that is wrong in one go, not one per attempt.
/// </summary>
public static class VerificationPolicy
{
    /// <summary>Check names, the first word of each failure.</summary>
    public const string OsCaption = "os-caption", OsBuild = "os-build", Hostname = "hostname", Domain = "domain",
        SystemDisk = "system-disk", SecurityAgent = "security-agent", IocFile = "ioc-file", IocService = "ioc-service";

    public static VerificationOutcome Evaluate(MachineFacts facts, CimVerificationOptions expected, LeasedCommand command)
    {
        var failures = new List<string>();

        if (!string.IsNullOrWhiteSpace(expected.ExpectedOsCaption)
            && facts.OsCaption?.Contains(expected.ExpectedOsCaption, StringComparison.OrdinalIgnoreCase) != true)
        {
            failures.Add($"{OsCaption}: expected '{expected.ExpectedOsCaption}', found '{facts.OsCaption}'");
        }

        if (string.IsNullOrWhiteSpace(expected.ExpectedBuildPrefix))
        {
            failures.Add($"{OsBuild}: no expected build configured");
        }
        else if (facts.OsBuildNumber?.StartsWith(expected.ExpectedBuildPrefix, StringComparison.Ordinal) != true)
        {
            failures.Add($"{OsBuild}: expected {expected.ExpectedBuildPrefix}*, found '{facts.OsBuildNumber}'");
        }

        var reported = string.IsNullOrEmpty(facts.DnsHostName) ? facts.ComputerName : facts.DnsHostName;
        if (!IsHost(reported, facts.Domain, command.Hostname))
        {
            failures.Add($"{Hostname}: expected '{command.Hostname}', found '{reported}'");
        }

        if (string.IsNullOrWhiteSpace(expected.ExpectedDomain))
        {
            failures.Add($"{Domain}: no expected domain configured");
        }
        else if (!facts.PartOfDomain)
        {
            failures.Add($"{Domain}: not joined to a domain (workgroup '{facts.Domain}'), expected '{expected.ExpectedDomain}'");
        }
        else if (!string.Equals(facts.Domain, expected.ExpectedDomain, StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"{Domain}: expected '{expected.ExpectedDomain}', found '{facts.Domain}'");
        }

        if (facts.SystemDisk is not { SizeBytes: > 0 } disk)
        {
            failures.Add($"{SystemDisk}: no system disk found");
        }
        else if (disk.FreeBytes < (ulong)Math.Max(0, expected.MinimumSystemDiskFreeBytes))
        {
            failures.Add($"{SystemDisk}: {disk.DeviceId} has {disk.FreeBytes} bytes free of {disk.SizeBytes}, expected at least {expected.MinimumSystemDiskFreeBytes}");
        }

        if (string.IsNullOrWhiteSpace(expected.SecurityAgentService))
        {
            failures.Add($"{SecurityAgent}: no security agent service configured");
        }
        else if (!string.Equals(facts.SecurityAgentState, "Running", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"{SecurityAgent}: service {expected.SecurityAgentService} is {facts.SecurityAgentState ?? "not installed"}, expected Running");
        }

        // Only the configured indicators count: the collector looks for exactly these, and the comparison is
        // case-insensitive because Windows paths and service names are.
        failures.AddRange(expected.IocFiles.Where(f => facts.IocFilesPresent.Contains(f, StringComparer.OrdinalIgnoreCase)).Select(f => $"{IocFile}: {f} is present"));
        failures.AddRange(expected.IocServices.Where(s => facts.IocServicesPresent.Contains(s, StringComparer.OrdinalIgnoreCase)).Select(s => $"{IocService}: {s} is present"));

        return new VerificationOutcome(failures);
    }

    /// <summary>The machine's own name matches the command's, short or fully qualified.</summary>
    private static bool IsHost(string? reported, string? domain, string expected) =>
        !string.IsNullOrEmpty(reported)
        && (string.Equals(reported, expected, StringComparison.OrdinalIgnoreCase)
            || string.Equals($"{reported}.{domain}", expected, StringComparison.OrdinalIgnoreCase));
}
