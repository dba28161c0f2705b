namespace Reimage.Orchestrator.Machines;

/// <summary>
/// One entry of a machine's append-only history: every transition and every human action.
/// Rows are only ever inserted; nothing updates or deletes them.
/// </summary>
public sealed class MachineEvent
{
    public long Id { get; set; }

    public Guid MachineId { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    /// <summary>The IANA zone the event is shown in (the site's), so "when" keeps its local meaning.</summary>
    public required string TimeZone { get; set; }

    /// <summary>Who: a user name, "system", or "agent:SITE".</summary>
    public required string Actor { get; set; }

    /// <summary>From where: a job name, an agent id, or a client address.</summary>
    public required string Origin { get; set; }

    /// <summary>What: "transition", "imported", "updated", …</summary>
    public required string Kind { get; set; }

    public string? FromState { get; set; }

    public string? ToState { get; set; }

    public string? Step { get; set; }

    public string? Detail { get; set; }

    /// <summary>The hash of the machine's previous event; null for its first.</summary>
    public byte[]? PrevHash { get; set; }

    /// <summary>SHA-256 over <see cref="PrevHash"/> and this event's content (see <c>Audit/AuditChain</c>).</summary>
    public byte[] Hash { get; set; } = [];
}
