namespace Reimage.Orchestrator.Evidence;

/// <summary>
/// A drive removed from a machine and kept as evidence, with the fields NIST SP 800-61 asks to record for
/// evidence collection: what it is (serial, model), where it came from (host, MAC, IP), who collected it, when
/// (with the site's time zone), how it is sealed (bag and seal ids) and where it is kept. Never updated: where it
/// goes next is a <see cref="CustodyTransfer"/>.
/// </summary>
public sealed class EvidenceItem
{
    public Guid Id { get; set; }

    public Guid MachineId { get; set; }

    public required string DriveSerial { get; set; }

    public string? DriveModel { get; set; }

    public required string Hostname { get; set; }

    public List<string> MacAddresses { get; set; } = [];

    public string? IpAddress { get; set; }

    public required string EvidenceBagId { get; set; }

    public required string SealId { get; set; }

    public required string CollectedBy { get; set; }

    public DateTimeOffset CollectedAt { get; set; }

    public required string TimeZone { get; set; }

    public required string StorageLocation { get; set; }

    /// <summary>The incident case the evidence belongs to (the investigators' case number); the register is exported per case.</summary>
    public string CaseNumber { get; set; } = UnassignedCase;

    public const string UnassignedCase = "unassigned";
}

/// <summary>One hand-over of an evidence item: append-only, so the chain of custody can be read back in order.</summary>
public sealed class CustodyTransfer
{
    public long Id { get; set; }

    public Guid EvidenceItemId { get; set; }

    public required string From { get; set; }

    public required string To { get; set; }

    /// <summary>The account of the receiver when the receiver was named by account; null when by a typed name (a claim).</summary>
    public string? ToAccount { get; set; }

    /// <summary>The signed-in account that recorded this hand-over.</summary>
    public required string EnteredBy { get; set; }

    public required string Location { get; set; }

    public DateTimeOffset At { get; set; }

    public required string TimeZone { get; set; }

    public string? Note { get; set; }
}
