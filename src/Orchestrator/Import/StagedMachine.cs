using Reimage.Orchestrator.Machines;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Import;

/// <summary>
/// One row of the file after validation, as it goes to the staging table. Invalid values are left null so
/// that the checks that need the rest of the row (duplicates, the existing fleet) still run on it.
/// </summary>
internal sealed class StagedMachine
{
    public required int Line { get; init; }

    /// <summary>The id the machine gets if it is new; an existing machine keeps its own.</summary>
    public Guid NewId { get; init; }

    public string? Hostname { get; set; }

    public string? AssetTag { get; set; }

    public string? SerialNumber { get; set; }

    public string[] MacAddresses { get; set; } = [];

    public string? IpAddress { get; set; }

    public string? Site { get; set; }

    public string? Building { get; set; }

    public string? Floor { get; set; }

    public string? Room { get; set; }

    public string? Department { get; set; }

    public string? Owner { get; set; }

    public MachineRole Role { get; set; } = MachineRole.Workstation;

    public int Criticality { get; set; } = 3;

    public string? Model { get; set; }

    public string? DiskType { get; set; }

    public string? BmcAddress { get; set; }

    public string? ImageProfile { get; set; }

    /// <summary>The path the file asks for; null when it does not say (then new machines get <see cref="DefaultPath"/>).</summary>
    public RecoveryPath? RecoveryPath { get; set; }

    /// <summary>Servers with a BMC can be rebuilt remotely; everything else starts as a reformat.</summary>
    public RecoveryPath DefaultPath =>
        Role is MachineRole.Server or MachineRole.DomainController && !string.IsNullOrEmpty(BmcAddress)
            ? Workflow.RecoveryPath.ServerViaBmc
            : Workflow.RecoveryPath.Reformat;
}
