using System.Net;
using Microsoft.Extensions.Time.Testing;
using Reimage.Agents.Drivers;
using Reimage.Agents.Protocol;
using static Reimage.Agents.Tests.Drivers.RedfishDriverTests;

namespace Reimage.Agents.Tests.Drivers;

/// <summary>Every way a Redfish boot fails gives a Detail an operator can act on, leaks no secret and leaves no session behind.</summary>
public sealed class RedfishDriverFailureTests
{
    [Fact]
    public async Task BmcBoot_WithAWrongPassword_FailsWithLoginRefused_AndTouchesNothing()
    {
        await using var bmc = await FakeRedfishBmc.StartAsync(DellLike, TestContext.Current.CancellationToken);
        using var rig = new Rig(DellLike, options: Options(DellLike, password: "not-the-Pa55word"));

        var result = await rig.Driver.ExecuteAsync(Command(bmc, "pc-dell-01"), TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Equal($"BMC {bmc.Authority}: login refused (401)", result.Detail);
        Assert.Equal(["GET /redfish/v1/", "POST /redfish/v1/SessionService/Sessions"], bmc.Requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.Empty(bmc.IssuedTokens);
        rig.AssertNoSecrets(bmc, result.Detail);
    }

    [Fact]
    public async Task BmcBoot_WhenPxeIsNotAnAllowedBootTarget_FailsWithoutResetting_AndDeletesTheSession()
    {
        var flavour = DellLike with { BootTargets = ["None", "Hdd", "Cd"] };
        await using var bmc = await FakeRedfishBmc.StartAsync(flavour, TestContext.Current.CancellationToken);
        using var rig = new Rig(flavour);

        var result = await rig.Driver.ExecuteAsync(Command(bmc, "pc-dell-01"), TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Equal($"BMC {bmc.Authority}: no Pxe boot override allowed", result.Detail);
        Assert.DoesNotContain(bmc.Requests, r => r.Method == "PATCH" || r.Path.Contains("Reset", StringComparison.Ordinal));
        AssertSessionUsedThenDeleted(bmc);
        rig.AssertNoSecrets(bmc, result.Detail);
    }

    [Fact]
    public async Task BmcBoot_WhenTheBmcRefusesTheReset_ReportsItsMessage_AndDeletesTheSession()
    {
        var flavour = DellLike with { FailResetsWith = HttpStatusCode.ServiceUnavailable };
        await using var bmc = await FakeRedfishBmc.StartAsync(flavour, TestContext.Current.CancellationToken);
        using var rig = new Rig(flavour);

        var result = await rig.Driver.ExecuteAsync(Command(bmc, "pc-dell-01"), TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Equal($"BMC {bmc.Authority}: reset ForceRestart failed (503: The BMC is busy.)", result.Detail);
        AssertSessionUsedThenDeleted(bmc);
        rig.AssertNoSecrets(bmc, result.Detail);
    }

    [Fact]
    public async Task BmcBoot_WhenTheSystemNeverReportsOff_TimesOutOnTheClock_AndDeletesTheSession()
    {
        var flavour = TwoNodesOnOffOnly with { GetsUntilOff = int.MaxValue };
        await using var bmc = await FakeRedfishBmc.StartAsync(flavour, TestContext.Current.CancellationToken);
        var clock = new FakeTimeProvider();
        using var rig = new Rig(flavour, clock, Options(flavour, powerOffTimeout: TimeSpan.FromSeconds(30)));

        var result = await DriveAsync(rig.Driver.ExecuteAsync(Command(bmc, "pc-node-b"), TestContext.Current.CancellationToken), clock);

        Assert.False(result.Succeeded);
        Assert.Equal($"BMC {bmc.Authority}: timed out after 30 s waiting for PowerState Off after ForceOff (still On)", result.Detail);
        Assert.Equal(["ForceOff"], bmc.System("/redfish/v1/Systems/2/").Resets);
        AssertSessionUsedThenDeleted(bmc);
        rig.AssertNoSecrets(bmc, result.Detail);
    }

    [Fact]
    public async Task BmcBoot_WhenCancelledMidway_StillDeletesTheSession()
    {
        var flavour = TwoNodesOnOffOnly with { GetsUntilOff = int.MaxValue };
        await using var bmc = await FakeRedfishBmc.StartAsync(flavour, TestContext.Current.CancellationToken);
        using var rig = new Rig(flavour, new FakeTimeProvider()); // never advanced: the driver waits in its poll delay
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var running = rig.Driver.ExecuteAsync(Command(bmc, "pc-node-b"), cancel.Token);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (bmc.System("/redfish/v1/Systems/2/").Resets.Count == 0 && !running.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "the driver never sent ForceOff");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        AssertSessionUsedThenDeleted(bmc, deleteIsLast: false); // a poll cut off by the cancel may reach the fake late
    }

    [Fact]
    public async Task BmcBoot_OverPlainHttpWithoutOptIn_RefusesBeforeSendingAnything()
    {
        await using var bmc = await FakeRedfishBmc.StartAsync(DellLike, TestContext.Current.CancellationToken);
        using var rig = new Rig(DellLike, options: Options(DellLike, allowPlainHttp: false));

        var result = await rig.Driver.ExecuteAsync(Command(bmc, "pc-dell-01"), TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.StartsWith($"BMC {bmc.Authority}: refusing to send credentials over plain http", result.Detail, StringComparison.Ordinal);
        Assert.Empty(bmc.Requests);
    }

    [Fact]
    public async Task BmcBoot_WhenTheBmcIsUnreachable_SaysSo()
    {
        Uri unreachable;
        await using (var stopped = await FakeRedfishBmc.StartAsync(DellLike, TestContext.Current.CancellationToken))
        {
            unreachable = stopped.BaseAddress; // nothing listens here once it is disposed
        }

        using var rig = new Rig(DellLike);
        var command = new LeasedCommand(Guid.NewGuid(), Guid.NewGuid(), "bmc-boot", "BmcBoot", 1, "pc-dell-01", [], null, unreachable.ToString());

        var result = await rig.Driver.ExecuteAsync(command, TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Equal($"BMC {unreachable.Authority}: connection refused (nothing listens on that port) on GET /redfish/v1/", result.Detail);
    }

    [Theory]
    [InlineData("bmc-boot", null, "PC1: no usable BMC address ('')")]
    [InlineData("bmc-boot", "ftp://10.1.2.3", "PC1: no usable BMC address ('ftp://10.1.2.3')")]
    [InlineData("network-boot", "10.1.2.3", "the Redfish driver cannot do 'network-boot'")]
    public async Task BmcBoot_WithoutAUsableAddressOrForAnotherKind_FailsClearly(string kind, string? address, string detail)
    {
        using var rig = new Rig(DellLike);
        var command = new LeasedCommand(Guid.NewGuid(), Guid.NewGuid(), kind, "BmcBoot", 1, "PC1", [], null, address);

        var result = await rig.Driver.ExecuteAsync(command, TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Equal(detail, result.Detail);
    }
}
