namespace Reimage.Orchestrator.Workflow;

public enum RecoveryPath
{
    Reformat,
    DriveReplacement,
    ServerViaBmc,
}

public enum Step
{
    /// <summary>Hands-on: take out the wiped drive and bag it as evidence (serial, bag and seal recorded).</summary>
    RemoveDrive,

    /// <summary>Hands-on: fit the spare drive (its serial recorded).</summary>
    InstallDrive,

    NetworkBoot,
    Imaging,
    Verify,
}

public enum StepKind
{
    Automated,
    HandsOn,
}

/// <summary>One step of a path: who does it, which agent command carries it, how long it may take and how often it is tried.</summary>
public sealed record StepDefinition(Step Step, StepKind Kind, string? AgentCommand, TimeSpan Timeout, int MaxAttempts, bool UsesImagingSlot);

/// <summary>
/// The ordered steps of each recovery path. DriveReplacement starts with two hands-on steps (completed by a
/// technician through the API, never by an agent) and then shares the automated tail of Reformat; ServerViaBmc
/// runs that tail too (its Redfish boot arrives with the agents' drivers). Hands-on steps hold an imaging slot:
/// until technician rosters land, the slot is what keeps a site from taking on more machines than it can handle.
/// </summary>
public static class RecoveryPaths
{
    private static readonly StepDefinition[] ReformatSteps =
    [
        new(Step.NetworkBoot, StepKind.Automated, "network-boot", TimeSpan.FromMinutes(20), MaxAttempts: 3, UsesImagingSlot: true),
        new(Step.Imaging, StepKind.Automated, "await-imaging", TimeSpan.FromHours(3), MaxAttempts: 2, UsesImagingSlot: true),
        new(Step.Verify, StepKind.Automated, "verify", TimeSpan.FromMinutes(30), MaxAttempts: 3, UsesImagingSlot: false),
    ];

    private static readonly StepDefinition[] DriveReplacementSteps =
    [
        new(Step.RemoveDrive, StepKind.HandsOn, null, TimeSpan.FromHours(8), MaxAttempts: 1, UsesImagingSlot: true),
        new(Step.InstallDrive, StepKind.HandsOn, null, TimeSpan.FromHours(8), MaxAttempts: 1, UsesImagingSlot: true),
        .. ReformatSteps,
    ];

    public static IReadOnlyList<StepDefinition> Steps(RecoveryPath path) => path switch
    {
        RecoveryPath.Reformat or RecoveryPath.ServerViaBmc => ReformatSteps,
        RecoveryPath.DriveReplacement => DriveReplacementSteps,
        _ => throw new ArgumentOutOfRangeException(nameof(path), path, "Unknown recovery path."),
    };

    public static StepDefinition First(RecoveryPath path) => Steps(path)[0];

    public static StepDefinition Definition(RecoveryPath path, Step step) =>
        Steps(path).FirstOrDefault(s => s.Step == step)
        ?? throw new InvalidOperationException($"Step {step} is not on the {path} path.");

    /// <summary>The step after <paramref name="step"/>, or null when it was the last (the machine is then Restored).</summary>
    public static StepDefinition? Next(RecoveryPath path, Step step)
    {
        var steps = Steps(path);
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i].Step == step)
            {
                return i + 1 < steps.Count ? steps[i + 1] : null;
            }
        }

        throw new InvalidOperationException($"Step {step} is not on the {path} path.");
    }

    /// <summary>No step of any path times out sooner than this; the sweeper looks no further back.</summary>
    public static TimeSpan ShortestTimeout { get; } =
        Enum.GetValues<RecoveryPath>().SelectMany(Steps).Min(s => s.Timeout);

    /// <summary>Steps whose machines hold one of the site's imaging slots.</summary>
    public static IReadOnlyList<string> SlotSteps { get; } =
        DriveReplacementSteps.Concat(ReformatSteps).Where(s => s.UsesImagingSlot).Select(s => s.Step.ToString()).Distinct().ToArray();
}
