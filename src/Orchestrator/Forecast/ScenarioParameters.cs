using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// A reference scenario as stored: the parameters of a fleet rather than its rows, turned into a plan by
/// <see cref="ReferenceScenarios"/> with the scenario's seed. The assumptions behind each number are in
/// docs/scenarios/README.md.
/// </summary>
internal sealed record ScenarioParameters(
    string Name,
    string Summary,
    DateTimeOffset Start,
    int Seed,
    WalkingMinutes Walking,
    IReadOnlyDictionary<Step, DurationMinutes> Durations,
    IReadOnlyList<WaveParameters> Waves,
    IReadOnlyList<SiteGroup> SiteGroups);

internal sealed record WalkingMinutes(double FloorChange, double BuildingChange);

internal sealed record DurationMinutes(double Median, double Spread, double FailureRate);

/// <summary>Which machines a wave takes.</summary>
internal enum WaveRole
{
    DomainControllers,
    Servers,
    CriticalWorkstations,
    Workstations,
}

internal sealed record WaveParameters(string Name, WaveRole Role, IReadOnlyList<GateParameters> Gates);

internal sealed record GateParameters(string Wave, int RestoredPercent);

/// <summary>Sites alike in kind (one headquarters, or two hundred small offices), with the fleet and capacity of each given per site or per thousand machines.</summary>
/// <param name="Sites">How many such sites; their sizes vary log-normally by <paramref name="SizeSpread"/> around an equal share.</param>
/// <param name="TimeZones">Assigned round-robin to the sites of the group.</param>
/// <param name="CriticalShare">Of the workstations, the share in the critical-business wave.</param>
/// <param name="DriveReplacement">Share of workstations whose disks are replaced (kept as evidence) rather than reformatted.</param>
/// <param name="RemoteBoot">Share of machines the agent can boot from afar; the others need a technician's manual boot.</param>
/// <param name="SparesOnHand">Drives on the shelf at the start, as a share of the group's demand; deliveries bring more.</param>
/// <param name="UsbShare">Share of the group's sites imaged from couriered USB media (too little bandwidth); they have none until the courier comes.</param>
internal sealed record SiteGroup(
    string Code,
    int Sites,
    IReadOnlyList<string> TimeZones,
    int Workstations,
    int Servers,
    int DomainControllers,
    double SizeSpread,
    int MachinesPerFloor,
    int FloorsPerBuilding,
    double SlotsPerThousand,
    int MinimumSlots,
    int HandsOnPerTechnician,
    IReadOnlyList<ShiftParameters> Shifts,
    double CriticalShare,
    double DriveReplacement,
    double RemoteBoot,
    IReadOnlyDictionary<string, double> Drives,
    double SparesOnHand,
    IReadOnlyList<DeliveryParameters> Deliveries,
    double UsbShare,
    double UsbCourierHoursMin,
    double UsbCourierHoursMax,
    double? BandwidthMbps,
    double ImageGigabytes,
    double ServerImageGigabytes);

/// <summary>A shift pattern of the group, staffed with <paramref name="PerThousand"/> technicians per thousand machines (at least <paramref name="Minimum"/>).</summary>
internal sealed record ShiftParameters(ShiftDays Days, TimeOnly Starts, TimeOnly Ends, double PerThousand, int Minimum);

/// <summary>Drives arriving <paramref name="AfterHours"/> after the start, as a share of the demand.</summary>
internal sealed record DeliveryParameters(double AfterHours, double Share);
