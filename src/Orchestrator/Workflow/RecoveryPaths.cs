using Reimage.Orchestrator.HandsOn;

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

    /// <summary>Automated: the site agent wakes the machine (Wake-on-LAN) into a network boot.</summary>
    NetworkBoot,

    /// <summary>Hands-on, instead of <see cref="NetworkBoot"/> where no remote boot is possible (no MAC known): a technician starts the network boot at the machine.</summary>
    ManualBoot,

    /// <summary>Automated: the site agent sets a one-time PXE boot on the server's BMC (Redfish) and power-cycles it.</summary>
    BmcBoot,

    Imaging,
    Verify,
}

public enum StepKind
{
    Automated,
    HandsOn,
}

/// <summary>
/// One step of a path: who does it, which agent command carries it, how long it may take, how often it is tried,
/// and whether the machine holds one of the site's imaging slots (a bench position) meanwhile.
/// <see cref="RemoteBoot"/> marks the step that boots the machine from afar; a machine that cannot be booted remotely
/// gets the hands-on <see cref="Step.ManualBoot"/> in its place.
/// </summary>
public sealed record StepDefinition(Step Step, StepKind Kind, string? AgentCommand, TimeSpan Timeout, int MaxAttempts, bool UsesImagingSlot, bool RemoteBoot = false);

/// <summary>
/// The step tables of the three recovery paths. Reformat wakes the machine over the network, images and verifies it;
/// only a machine with no known MAC address gets a technician step to start its boot by hand. DriveReplacement starts
/// with two hands-on steps (completed by a technician through the API, never by an agent) and then runs the reformat
/// tail on the new drive. ServerViaBmc boots the server through its BMC. A slot is held from admission until imaging
/// is done; verification runs outside it.
/// </summary>
public static class RecoveryPaths
{
    private static readonly StepDefinition ManualBoot =
        new(Step.ManualBoot, StepKind.HandsOn, null, TimeSpan.FromHours(8), MaxAttempts: 1, UsesImagingSlot: true);

    private static readonly StepDefinition Imaging =
        new(Step.Imaging, StepKind.Automated, "await-imaging", TimeSpan.FromHours(3), MaxAttempts: 2, UsesImagingSlot: true);

    private static readonly StepDefinition Verify =
        new(Step.Verify, StepKind.Automated, "verify", TimeSpan.FromMinutes(30), MaxAttempts: 3, UsesImagingSlot: false);

    private static readonly StepDefinition[] ReformatSteps =
    [
        new(Step.NetworkBoot, StepKind.Automated, "network-boot", TimeSpan.FromMinutes(20), MaxAttempts: 3, UsesImagingSlot: true, RemoteBoot: true),
        Imaging,
        Verify,
    ];

    private static readonly StepDefinition[] DriveReplacementSteps =
    [
        new(Step.RemoveDrive, StepKind.HandsOn, null, TimeSpan.FromHours(8), MaxAttempts: 1, UsesImagingSlot: true),
        new(Step.InstallDrive, StepKind.HandsOn, null, TimeSpan.FromHours(8), MaxAttempts: 1, UsesImagingSlot: true),
        .. ReformatSteps,
    ];

    private static readonly StepDefinition[] ServerViaBmcSteps =
    [
        new(Step.BmcBoot, StepKind.Automated, "bmc-boot", TimeSpan.FromMinutes(20), MaxAttempts: 3, UsesImagingSlot: true, RemoteBoot: true),
        Imaging,
        Verify,
    ];

    /// <summary>The path's main line, without variants.</summary>
    public static IReadOnlyList<StepDefinition> Steps(RecoveryPath path) => path switch
    {
        RecoveryPath.Reformat => ReformatSteps,
        RecoveryPath.DriveReplacement => DriveReplacementSteps,
        RecoveryPath.ServerViaBmc => ServerViaBmcSteps,
        _ => throw new ArgumentOutOfRangeException(nameof(path), path, "Unknown recovery path."),
    };

    /// <summary>The steps a machine actually walks: the main line, with the hands-on boot for one that cannot be booted remotely.</summary>
    public static IReadOnlyList<StepDefinition> Steps(RecoveryPath path, bool remoteBoot) =>
        remoteBoot ? Steps(path) : Steps(path).Select(s => s.RemoteBoot ? ManualBoot : s).ToArray();

    public static StepDefinition First(RecoveryPath path, bool remoteBoot = true) => Steps(path, remoteBoot)[0];

    public static StepDefinition Definition(RecoveryPath path, Step step) =>
        (step == Step.ManualBoot ? ManualBoot : Steps(path).FirstOrDefault(s => s.Step == step))
        ?? throw new InvalidOperationException($"Step {step} is not on the {path} path.");

    /// <summary>The step after <paramref name="step"/>, or null when it was the last (the machine is then Restored).</summary>
    public static StepDefinition? Next(RecoveryPath path, Step step, bool remoteBoot = true)
    {
        // Once a machine is past its boot, the variant no longer matters; a manual boot sits where the remote one would.
        var steps = Steps(path, remoteBoot && step != Step.ManualBoot);
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i].Step == step)
            {
                return i + 1 < steps.Count ? steps[i + 1] : null;
            }
        }

        throw new InvalidOperationException($"Step {step} is not on the {path} path.");
    }

    /// <summary>
    /// A machine can be booted remotely when the agent can wake it: it has a MAC address no other machine shares (or a
    /// BMC, on the server path). A dock's MAC wakes whichever laptop sits in the dock, so it never counts alone.
    /// </summary>
    public static bool CanBootRemotely(RecoveryPath path, int unsharedMacAddresses, bool hasBmc) =>
        path == RecoveryPath.ServerViaBmc ? hasBmc : unsharedMacAddresses > 0;

    /// <summary>The SQL twin of <see cref="CanBootRemotely"/> over <c>reimage.recoveries r JOIN reimage.machines m</c>.</summary>
    internal const string CanBootRemotelySql =
        "(CASE WHEN r.path = 'ServerViaBmc' THEN m.bmc_address IS NOT NULL ELSE cardinality(m.mac_addresses) > cardinality(m.shared_mac_addresses) END)";

    /// <summary>No step of any path times out sooner than this; the sweeper looks no further back.</summary>
    public static TimeSpan ShortestTimeout { get; } =
        Enum.GetValues<RecoveryPath>().SelectMany(Steps).Min(s => s.Timeout);

    /// <summary>Steps whose machines hold one of the site's imaging slots.</summary>
    public static IReadOnlyList<string> SlotSteps { get; } =
        Enum.GetValues<RecoveryPath>().SelectMany(Steps).Append(ManualBoot).Where(s => s.UsesImagingSlot).Select(s => s.Step.ToString()).Distinct().ToArray();

    /// <summary>Steps a technician does; the machine is then in someone's queue.</summary>
    public static IReadOnlyList<string> HandsOnSteps { get; } =
        Enum.GetValues<RecoveryPath>().SelectMany(Steps).Append(ManualBoot).Where(s => s.Kind == StepKind.HandsOn).Select(s => s.Step.ToString()).Distinct().ToArray();
}
