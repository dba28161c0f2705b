using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// A recovery plan as the forecast sees it, free of the database so that it can be built from the live tables, from a
/// reference scenario or from a what-if: the sites with their people, slots and parts, the waves with their gates, the
/// machines with where each one stands at <see cref="Start"/>, and how long each step takes.
/// </summary>
public sealed record ForecastPlan(
    DateTimeOffset Start,
    IReadOnlyList<ForecastSite> Sites,
    IReadOnlyList<ForecastWave> Waves,
    IReadOnlyList<ForecastMachine> Machines,
    StepDurations Durations)
{
    /// <summary>What a technician loses walking to the next machine; this is what the policy's floor preference saves.</summary>
    public WalkingTimes Walking { get; init; } = WalkingTimes.Default;
}

/// <summary>A site's capacity. <paramref name="Spares"/> counts drives on the shelf, including those already promised to machines in work.</summary>
/// <param name="UsbMedia">USB media on hand; at a USB-imaged site they bound the slots (as in <see cref="Scheduling.CapacitySnapshot"/>).</param>
/// <param name="Deliveries">Parts and media on their way; an item named <see cref="SpareStock.UsbMedia"/> adds USB media.</param>
public sealed record ForecastSite(
    Guid Id,
    string Code,
    string TimeZone,
    int ImagingSlots,
    int HandsOnPerTechnician,
    IReadOnlyList<ForecastTechnician> Technicians,
    IReadOnlyDictionary<string, int> Spares,
    IReadOnlyList<ForecastDelivery> Deliveries,
    bool ImagesFromUsb = false,
    int UsbMedia = 0)
{
    /// <summary>Bytes per second the site's image server can push to all its machines together; null when the link is not the limit.</summary>
    public double? ImagingBytesPerSecond { get; init; }

    /// <summary>Size of the site's image, for machines that do not say their own; needed when <see cref="ImagingBytesPerSecond"/> is set.</summary>
    public long? ImageBytes { get; init; }
}

/// <summary>A technician with a home building and a weekly roster in the site's time zone (as <see cref="Shift"/>).</summary>
public sealed record ForecastTechnician(Guid Id, string Name, string? Building, IReadOnlyList<ForecastShift> Shifts);

public sealed record ForecastShift(ShiftDays Days, TimeOnly Starts, TimeOnly Ends);

public sealed record ForecastDelivery(string Item, int Quantity, DateTimeOffset ArrivesAt);

/// <summary>
/// A wave. Draft, Approved and Launched waves are taken as launched at the start (the forecast asks "if we run this
/// plan"); a Paused wave admits nobody; a Cancelled or Completed wave's unfinished machines are left out.
/// </summary>
public sealed record ForecastWave(Guid Id, string Name, int Ordinal, IReadOnlyList<ForecastGate> Gates, WaveStatus Status = WaveStatus.Launched);

public sealed record ForecastGate(Guid DependsOnWaveId, int RestoredPercent);

/// <summary>One machine of the fleet and, for a forecast made mid-recovery, where it stands.</summary>
/// <param name="RemoteBoot">Whether its boot step can run from afar (<see cref="RecoveryPaths.CanBootRemotely"/>); if not, a technician boots it.</param>
public sealed record ForecastMachine(
    Guid Id,
    string Hostname,
    Guid SiteId,
    Guid WaveId,
    RecoveryPath Path,
    int Criticality,
    string? Building,
    string? Floor,
    string? Room,
    string? DiskType,
    bool RemoteBoot = true)
{
    /// <summary>Bytes to image when they differ from the site's image (a server's larger image).</summary>
    public long? ImageBytes { get; init; }

    /// <summary>Queued (or Planned, AwaitingParts) waits; InProgress is at <see cref="Step"/>; Restored is done; Failed and the rest are left out.</summary>
    public RecoveryState State { get; init; } = RecoveryState.Queued;

    public Step? Step { get; init; }

    public int Attempt { get; init; } = 1;
}

/// <summary>A technician's time between machines: to another floor of the same building, or to another building.</summary>
public sealed record WalkingTimes(TimeSpan FloorChange, TimeSpan BuildingChange)
{
    public static WalkingTimes Default { get; } = new(TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(10));

    public static WalkingTimes None { get; } = new(TimeSpan.Zero, TimeSpan.Zero);
}
