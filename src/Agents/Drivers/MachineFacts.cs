namespace Reimage.Agents.Drivers;

/// <summary>
/// What CIM reported about a machine after imaging. Kept apart from the collector so the verification rules can be
/// tested on any OS and with facts no lab machine would produce.
/// </summary>
public sealed record MachineFacts
{
    /// <summary>Win32_OperatingSystem.Caption, e.g. "Microsoft Windows 11 Enterprise".</summary>
    public string? OsCaption { get; init; }

    /// <summary>Win32_OperatingSystem.BuildNumber, e.g. "26100".</summary>
    public string? OsBuildNumber { get; init; }

    /// <summary>Win32_ComputerSystem.DNSHostName (short name, no domain).</summary>
    public string? DnsHostName { get; init; }

    /// <summary>Win32_ComputerSystem.Name (the NetBIOS name), for when DNSHostName is empty.</summary>
    public string? ComputerName { get; init; }

    /// <summary>Win32_ComputerSystem.Domain: the AD domain, or the workgroup name when not joined.</summary>
    public string? Domain { get; init; }

    public bool PartOfDomain { get; init; }

    /// <summary>The Win32_LogicalDisk named by Win32_OperatingSystem.SystemDrive; null when there was none.</summary>
    public SystemDisk? SystemDisk { get; init; }

    /// <summary>Win32_Service.State of the security agent ("Running", "Stopped", …); null when it is not installed.</summary>
    public string? SecurityAgentState { get; init; }

    /// <summary>The configured IOC file paths that exist on the machine.</summary>
    public IReadOnlyList<string> IocFilesPresent { get; init; } = [];

    /// <summary>The configured IOC service names that exist on the machine.</summary>
    public IReadOnlyList<string> IocServicesPresent { get; init; } = [];
}

/// <summary>The system drive as Win32_LogicalDisk reports it.</summary>
public sealed record SystemDisk(string DeviceId, ulong SizeBytes, ulong FreeBytes);
