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
}
