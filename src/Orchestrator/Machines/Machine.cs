namespace Reimage.Orchestrator.Machines;

/// <summary>
/// The inventory record of one machine. Its recovery record is <see cref="Workflow.Recovery"/>;
/// the two are kept apart so that a re-import never contends with the workflow for the same row.
/// </summary>
public sealed class Machine
{
    public Guid Id { get; set; }

    /// <summary>NetBIOS-compatible host name; unique across the fleet, case-insensitive. The import key.</summary>
    public required string Hostname { get; set; }

    public string? AssetTag { get; set; }

    public string? SerialNumber { get; set; }

    /// <summary>Normalised as upper-case colon-separated pairs (AA:BB:CC:DD:EE:FF).</summary>
    public List<string> MacAddresses { get; set; } = [];

    /// <summary>
    /// Those of <see cref="MacAddresses"/> that another machine also has (a dock, a USB adapter): never used to
    /// identify this machine or as its only wake target. Derived by the import from the whole fleet.
    /// </summary>
    public List<string> SharedMacAddresses { get; set; } = [];

    public string? IpAddress { get; set; }

    public Guid SiteId { get; set; }

    public string? Building { get; set; }

    public string? Floor { get; set; }

    public string? Room { get; set; }

    public string? Department { get; set; }

    public string? Owner { get; set; }

    public MachineRole Role { get; set; } = MachineRole.Workstation;

    /// <summary>0 (Tier 0: identity, the control plane) is the most critical; 4 the least.</summary>
    public int Criticality { get; set; } = 3;

    public string? Model { get; set; }

    /// <summary>Drive type for spare-part matching, e.g. "NVMe-512", "SATA-SSD-256".</summary>
    public string? DiskType { get; set; }

    public string? BmcAddress { get; set; }

    public string? ImageProfile { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

public enum MachineRole
{
    Workstation,
    Laptop,
    Server,
    DomainController,
}
