using Reimage.Orchestrator.Machines;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Import;

/// <summary>
/// One row of the file after validation, as it goes to the staging table. A null field means the file says
/// nothing about it (the column is absent or the cell empty): the machine keeps what it has. Only a field in
/// <see cref="Cleared"/> is emptied. Invalid values are left null so that the checks that need the rest of the
/// row (duplicates, the existing fleet) still run on it.
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

    /// <summary>The site the row names; null when it names none (then a new machine gets the import's default site).</summary>
    public string? Site { get; set; }

    /// <summary>An export's free-text location (Active Directory's <c>Location</c>), for the site rules.</summary>
    public string? Location { get; set; }

    /// <summary>Active Directory's <c>DistinguishedName</c>, for the site rules' OU paths.</summary>
    public string? DistinguishedName { get; set; }

    public string? Building { get; set; }

    public string? Floor { get; set; }

    public string? Room { get; set; }

    public string? Department { get; set; }

    public string? Owner { get; set; }

    /// <summary>The role the row states; null when it states none.</summary>
    public MachineRole? Role { get; set; }

    /// <summary>
    /// The role the export's other columns show (an OU of domain controllers, a server operating system); null when
    /// they show nothing. It can raise a machine's role (a workstation record that runs Windows Server), never lower it.
    /// </summary>
    public MachineRole? InferredRole { get; set; }

    /// <summary>The criticality the row states (0 = Tier 0, most critical); null when it states none.</summary>
    public int? Criticality { get; set; }

    public string? Model { get; set; }

    public string? DiskType { get; set; }

    public string? BmcAddress { get; set; }

    public string? ImageProfile { get; set; }

    /// <summary>The path the file asks for; null when it does not say (then new machines get <see cref="DefaultPath"/>).</summary>
    public RecoveryPath? RecoveryPath { get; set; }

    /// <summary>Bit <c>1 &lt;&lt; (int)field</c> is set for each field the row asks to clear with <see cref="ImportColumns.ClearToken"/>.</summary>
    public int Cleared { get; set; }

    public MachineRole NewRole => Role ?? InferredRole ?? MachineRole.Workstation;

    /// <summary>Identity first, then servers, then everyone else (the order recovery waves take).</summary>
    public int NewCriticality => Criticality ?? NewRole switch { MachineRole.DomainController => 1, MachineRole.Server => 2, _ => 3 };

    /// <summary>Servers with a BMC can be rebuilt remotely; everything else starts as a reformat.</summary>
    public RecoveryPath DefaultPath =>
        NewRole is MachineRole.Server or MachineRole.DomainController && !string.IsNullOrEmpty(BmcAddress)
            ? Workflow.RecoveryPath.ServerViaBmc
            : Workflow.RecoveryPath.Reformat;

    public static int Bit(ImportField field) => 1 << (int)field;
}
