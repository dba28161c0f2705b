using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Tests.Workflow;

public sealed class RecoveryTransitionsTests
{
    [Theory]
    [InlineData(RecoveryState.NotPlanned, RecoveryState.Planned)]
    [InlineData(RecoveryState.Planned, RecoveryState.Queued)]
    [InlineData(RecoveryState.Queued, RecoveryState.InProgress)]
    [InlineData(RecoveryState.InProgress, RecoveryState.InProgress)]
    [InlineData(RecoveryState.InProgress, RecoveryState.Restored)]
    [InlineData(RecoveryState.InProgress, RecoveryState.Failed)]
    [InlineData(RecoveryState.Failed, RecoveryState.Queued)]
    [InlineData(RecoveryState.Failed, RecoveryState.Quarantined)]
    public void EnsureAllowed_ForLegalMove_DoesNotThrow(RecoveryState from, RecoveryState to) =>
        RecoveryTransitions.EnsureAllowed(from, to);

    [Theory]
    [InlineData(RecoveryState.NotPlanned, RecoveryState.InProgress)]
    [InlineData(RecoveryState.NotPlanned, RecoveryState.Restored)]
    [InlineData(RecoveryState.Queued, RecoveryState.Restored)]
    [InlineData(RecoveryState.Restored, RecoveryState.InProgress)]
    [InlineData(RecoveryState.Decommissioned, RecoveryState.Queued)]
    [InlineData(RecoveryState.Planned, RecoveryState.Restored)]
    public void EnsureAllowed_ForIllegalMove_Throws(RecoveryState from, RecoveryState to) =>
        Assert.Throws<InvalidOperationException>(() => RecoveryTransitions.EnsureAllowed(from, to));

    [Fact]
    public void Restored_IsOnlyReachableFromInProgress()
    {
        var sources = Enum.GetValues<RecoveryState>().Where(s => RecoveryTransitions.IsAllowed(s, RecoveryState.Restored));
        Assert.Equal([RecoveryState.InProgress], sources);
    }

    [Fact]
    public void ReformatPath_IsNetworkBootImagingVerify()
    {
        Assert.Equal([Step.NetworkBoot, Step.Imaging, Step.Verify], RecoveryPaths.Steps(RecoveryPath.Reformat).Select(s => s.Step));
        Assert.Equal(Step.Imaging, RecoveryPaths.Next(RecoveryPath.Reformat, Step.NetworkBoot)!.Step);
        Assert.Null(RecoveryPaths.Next(RecoveryPath.Reformat, Step.Verify));
    }

    [Fact]
    public void PathTables_GiveAHandsOnBootOnlyToMachinesThatCannotBeBootedRemotely()
    {
        Assert.Equal([Step.ManualBoot, Step.Imaging, Step.Verify], RecoveryPaths.Steps(RecoveryPath.Reformat, remoteBoot: false).Select(s => s.Step));
        Assert.Equal([Step.BmcBoot, Step.Imaging, Step.Verify], RecoveryPaths.Steps(RecoveryPath.ServerViaBmc).Select(s => s.Step));
        Assert.Equal([Step.RemoveDrive, Step.InstallDrive, Step.ManualBoot, Step.Imaging, Step.Verify],
            RecoveryPaths.Steps(RecoveryPath.DriveReplacement, remoteBoot: false).Select(s => s.Step));
        Assert.Equal(Step.ManualBoot, RecoveryPaths.Next(RecoveryPath.DriveReplacement, Step.InstallDrive, remoteBoot: false)!.Step);
        Assert.Equal(Step.Imaging, RecoveryPaths.Next(RecoveryPath.Reformat, Step.ManualBoot, remoteBoot: true)!.Step);
        Assert.Equal(StepKind.HandsOn, RecoveryPaths.Definition(RecoveryPath.ServerViaBmc, Step.ManualBoot).Kind);
        Assert.Equal("bmc-boot", RecoveryPaths.First(RecoveryPath.ServerViaBmc).AgentCommand);
        Assert.True(RecoveryPaths.CanBootRemotely(RecoveryPath.ServerViaBmc, unsharedMacAddresses: 0, hasBmc: true));
        Assert.False(RecoveryPaths.CanBootRemotely(RecoveryPath.ServerViaBmc, unsharedMacAddresses: 2, hasBmc: false));
        Assert.False(RecoveryPaths.CanBootRemotely(RecoveryPath.Reformat, unsharedMacAddresses: 0, hasBmc: true));
    }

    [Fact]
    public void EveryStep_HasATimeoutAndAtLeastOneAttempt_AndOnlyAutomatedStepsCarryAnAgentCommand()
    {
        foreach (var step in Enum.GetValues<RecoveryPath>().SelectMany(p => RecoveryPaths.Steps(p).Concat(RecoveryPaths.Steps(p, remoteBoot: false))))
        {
            Assert.True(step.Timeout > TimeSpan.Zero && step.MaxAttempts >= 1, step.Step.ToString());
            Assert.Equal(step.Kind == StepKind.Automated, step.AgentCommand is not null);
        }
    }
}
