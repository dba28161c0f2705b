namespace Reimage.Orchestrator.Imaging;

/// <summary>
/// An image in the catalog: a machine whose image profile names it must attest, at first boot, the SHA-256 of the
/// newest approved version, or its verification fails. Approval records who and when.
/// </summary>
public sealed class GoldenImage
{
    public Guid Id { get; set; }

    /// <summary>The image profile machines refer to (<see cref="Machines.Machine.ImageProfile"/>).</summary>
    public required string Name { get; set; }

    public required string Version { get; set; }

    /// <summary>Lower-case hex, 64 characters.</summary>
    public required string Sha256 { get; set; }

    public required string CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public string? ApprovedBy { get; set; }

    public DateTimeOffset? ApprovedAt { get; set; }
}

/// <summary>The phases an imaging run reports, in the only order they may advance.</summary>
public enum ImagingPhase
{
    Started = 1,
    Progress = 2,
    Applied = 3,
    FirstBoot = 4,
    Failed = 5,
}

/// <summary>
/// The latest word from a machine's imaging task sequence for its current imaging attempt (identified by the step's
/// start): phase, progress, and at first boot what the machine attests about itself.
/// </summary>
public sealed class ImagingReport
{
    public Guid MachineId { get; set; }

    /// <summary>When the step this report belongs to started; a report from an earlier attempt is replaced, never merged.</summary>
    public DateTimeOffset StepStartedAt { get; set; }

    public ImagingPhase Phase { get; set; }

    public int Percent { get; set; }

    public DateTimeOffset ReportedAt { get; set; }

    public string? Detail { get; set; }

    public string? OsBuild { get; set; }

    public string? ImageId { get; set; }

    public string? ImageVersion { get; set; }

    public string? ImageSha256 { get; set; }

    public string? AttestedHostname { get; set; }

    public string? AttestedDomain { get; set; }

    public string? SecurityAgent { get; set; }
}
