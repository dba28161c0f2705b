namespace Reimage.Orchestrator.Waves;

/// <summary>An ordered batch of machines recovered together (identity first, then core, then the rest).</summary>
public sealed class Wave
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    /// <summary>Lower runs first; the dispatcher admits earlier waves before later ones.</summary>
    public int Ordinal { get; set; }

    public WaveStatus Status { get; set; } = WaveStatus.Draft;

    public string? ApprovedBy { get; set; }

    public DateTimeOffset? ApprovedAt { get; set; }

    public DateTimeOffset? LaunchedAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

public enum WaveStatus
{
    Draft,
    Approved,
    Launched,
    Paused,
    Completed,
    Cancelled,
}
