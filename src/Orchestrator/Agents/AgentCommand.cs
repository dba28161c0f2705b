namespace Reimage.Orchestrator.Agents;

/// <summary>
/// Work for a site agent: one attempt of one automated step on one machine. Claimed with a lease;
/// an expired lease re-offers it; the result is recorded once (idempotent by <see cref="Id"/>) and
/// then applied to the machine's recovery by the workflow pump.
/// </summary>
public sealed class AgentCommand
{
    public Guid Id { get; set; }

    public Guid SiteId { get; set; }

    public Guid MachineId { get; set; }

    public required string Kind { get; set; }

    public required string Step { get; set; }

    public int Attempt { get; set; }

    public CommandStatus Status { get; set; } = CommandStatus.Pending;

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Not offered before this time (retry backoff).</summary>
    public DateTimeOffset NotBefore { get; set; }

    public string? LeasedBy { get; set; }

    public DateTimeOffset? LeaseExpiresAt { get; set; }

    public int Deliveries { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public bool? Succeeded { get; set; }

    public string? Detail { get; set; }
}

public enum CommandStatus
{
    /// <summary>Waiting for an agent.</summary>
    Pending,

    /// <summary>Claimed by an agent until <see cref="AgentCommand.LeaseExpiresAt"/>.</summary>
    Leased,

    /// <summary>The agent reported a result; the workflow has not applied it yet.</summary>
    Completed,

    /// <summary>The result moved the machine on (or was stale and ignored).</summary>
    Applied,

    /// <summary>Withdrawn: the machine moved on without it.</summary>
    Cancelled,
}
