using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Reimage.Agents.Drivers;
using Reimage.Agents.Protocol;

namespace Reimage.Agents.Tests.Drivers;

/// <summary>The Redfish driver against fake BMCs of different vendors' layouts, over real HTTP on loopback.</summary>
public sealed class RedfishDriverTests
{
    /// <summary>iDRAC-like: Links.Sessions in the root, one system, ETags required on PATCH, every ResetType on the action.</summary>
    internal static readonly BmcFlavour DellLike = new()
    {
        Systems = [new("/redfish/v1/Systems/System.Embedded.1", "System.Embedded.1", "pc-dell-01")],
        ResetTypes = ["On", "ForceOff", "ForceRestart", "GracefulRestart", "GracefulShutdown", "PushPowerButton", "Nmi", "PowerCycle"],
        UsesETags = true,
    };

    /// <summary>
    /// A two-node chassis in iLO style: trailing slashes, no Links.Sessions, an absolute Location naming another host,
    /// ResetTypes only through an ActionInfo and only On/ForceOff, and a shutdown that takes a couple of polls.
    /// </summary>
    internal static readonly BmcFlavour TwoNodesOnOffOnly = new()
    {
        SessionsInLinks = false,
        SessionsPath = "/redfish/v1/SessionService/Sessions/",
        LocationHost = "ilo-chassis.example",
        SystemsPath = "/redfish/v1/Systems/",
        Systems = [new("/redfish/v1/Systems/1/", "1", "pc-node-a"), new("/redfish/v1/Systems/2/", "2", "PC-NODE-B.corp.example")],
        ResetTypes = ["On", "ForceOff"],
        ResetTypesInActionInfo = true,
        GetsUntilOff = 2,
    };

    private static readonly JsonObject PxeOnce = new() { ["Boot"] = new JsonObject { ["BootSourceOverrideEnabled"] = "Once", ["BootSourceOverrideTarget"] = "Pxe" } };

    [Fact]
    public async Task BmcBoot_OnADellLikeBmc_SetsPxeOnceWithIfMatch_ForceRestarts_AndDeletesTheSession()
    {
        await using var bmc = await FakeRedfishBmc.StartAsync(DellLike, TestContext.Current.CancellationToken);
        using var rig = new Rig(DellLike);

        var result = await rig.Driver.ExecuteAsync(Command(bmc, "pc-dell-01"), TestContext.Current.CancellationToken);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal($"BMC {bmc.Authority}: System.Embedded.1 (host name pc-dell-01) set to PXE boot once (read back), reset with ForceRestart, On after 0 s", result.Detail);
        var patch = Assert.Single(bmc.Requests, r => r.Method == "PATCH");
        Assert.Equal("/redfish/v1/Systems/System.Embedded.1", patch.Path);
        Assert.True(JsonNode.DeepEquals(PxeOnce, JsonNode.Parse(patch.Body)), patch.Body);
        Assert.Equal("W/\"System.Embedded.1-1\"", patch.IfMatch);
        var system = bmc.System("/redfish/v1/Systems/System.Embedded.1");
        Assert.Equal(("On", "Once", "Pxe"), (system.PowerState, system.BootEnabled, system.BootTarget));
        Assert.Equal(["ForceRestart"], system.Resets);
        AssertSessionUsedThenDeleted(bmc);
        rig.AssertNoSecrets(bmc, result.Detail);
    }

    [Fact]
    public async Task BmcBoot_OnATwoNodeBmcAllowingOnlyOnAndForceOff_PicksTheHostsNode_PowersOffWaitsThenOn()
    {
        await using var bmc = await FakeRedfishBmc.StartAsync(TwoNodesOnOffOnly, TestContext.Current.CancellationToken);
        var clock = new FakeTimeProvider();
        using var rig = new Rig(TwoNodesOnOffOnly, clock, Options(TwoNodesOnOffOnly, powerOffTimeout: TimeSpan.FromHours(1)));

        var result = await DriveAsync(rig.Driver.ExecuteAsync(Command(bmc, "pc-node-b"), TestContext.Current.CancellationToken), clock);

        Assert.True(result.Succeeded, result.Detail);
        Assert.StartsWith($"BMC {bmc.Authority}: 2 (host name pc-node-b) set to PXE boot once (read back), reset with ForceOff, On, On after ", result.Detail, StringComparison.Ordinal);
        var node = bmc.System("/redfish/v1/Systems/2/");
        Assert.Equal(["ForceOff", "On"], node.Resets);
        Assert.Equal(("On", "Once", "Pxe"), (node.PowerState, node.BootEnabled, node.BootTarget));
        Assert.Empty(bmc.System("/redfish/v1/Systems/1/").Resets);
        Assert.Equal("None", bmc.System("/redfish/v1/Systems/1/").BootTarget);
        var patch = Assert.Single(bmc.Requests, r => r.Method == "PATCH");
        Assert.True(JsonNode.DeepEquals(PxeOnce, JsonNode.Parse(patch.Body)), patch.Body);
        Assert.Null(patch.IfMatch);

        // ForceOff, then the system is read until it reports Off (two slow reads, then Off), and only then On.
        var afterForceOff = bmc.Requests.SkipWhile(r => !r.Body.Contains("ForceOff", StringComparison.Ordinal)).Skip(1).ToList();
        Assert.Equal(3, afterForceOff.TakeWhile(r => r.Method == "GET").Count(r => r.Path == "/redfish/v1/Systems/2/"));
        Assert.Contains("\"On\"", afterForceOff.First(r => r.Method == "POST").Body, StringComparison.Ordinal);
        AssertSessionUsedThenDeleted(bmc);
        rig.AssertNoSecrets(bmc, result.Detail);
    }

    [Fact]
    public async Task BmcBoot_WhenTheSystemIsOff_SwitchesItOn()
    {
        var flavour = DellLike with { Systems = [new("/redfish/v1/Systems/System.Embedded.1", "System.Embedded.1", "pc-dell-01", PowerState: "Off")] };
        await using var bmc = await FakeRedfishBmc.StartAsync(flavour, TestContext.Current.CancellationToken);
        using var rig = new Rig(flavour);

        var result = await rig.Driver.ExecuteAsync(Command(bmc, "pc-dell-01"), TestContext.Current.CancellationToken);

        Assert.True(result.Succeeded, result.Detail);
        Assert.EndsWith("reset with On, On after 0 s", result.Detail, StringComparison.Ordinal);
        Assert.Equal(["On"], bmc.System("/redfish/v1/Systems/System.Embedded.1").Resets);
        Assert.Equal("Pxe", bmc.System("/redfish/v1/Systems/System.Embedded.1").BootTarget);
        AssertSessionUsedThenDeleted(bmc);
    }

    [Fact]
    public async Task BmcBoot_WithoutASessionService_UsesBasicAuth_AndTriesForceRestartWhenTheResetTypesAreUnknown()
    {
        var flavour = DellLike with { HasSessionService = false, ResetTypes = null, UsesETags = false };
        await using var bmc = await FakeRedfishBmc.StartAsync(flavour, TestContext.Current.CancellationToken);
        using var rig = new Rig(flavour);

        var result = await rig.Driver.ExecuteAsync(Command(bmc, "pc-dell-01"), TestContext.Current.CancellationToken);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(["ForceRestart"], bmc.System("/redfish/v1/Systems/System.Embedded.1").Resets);
        Assert.All(bmc.Requests.Skip(1), r => Assert.StartsWith("Basic ", r.Authorization, StringComparison.Ordinal));
        Assert.All(bmc.Requests, r => Assert.Null(r.AuthToken));
        Assert.DoesNotContain(bmc.Requests, r => r.Method is "DELETE" || r.Path.Contains("Sessions", StringComparison.Ordinal));
        rig.AssertNoSecrets(bmc, result.Detail);
    }

    [Theory]
    [InlineData("10.1.2.3", "https://10.1.2.3/")]
    [InlineData("bmc-17.site.example:8443", "https://bmc-17.site.example:8443/")]
    [InlineData("http://127.0.0.1:5123", "http://127.0.0.1:5123/")]
    [InlineData("https://10.1.2.3/redfish/v1/", "https://10.1.2.3/")]
    [InlineData("[fd00::17]", "https://[fd00::17]/")]
    public void TryParseBmcAddress_BareHostMeansHttps(string address, string expected)
    {
        Assert.True(RedfishDriver.TryParseBmcAddress(address, out var uri));
        Assert.Equal(expected, uri.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData(" ")]
    [InlineData("ftp://10.1.2.3")]
    [InlineData("https://")]
    public void TryParseBmcAddress_RejectsWhatIsNotAnHttpBmc(string? address) =>
        Assert.False(RedfishDriver.TryParseBmcAddress(address, out _));

    internal static RedfishOptions Options(BmcFlavour flavour, TimeSpan? powerOffTimeout = null, string? password = null, bool allowPlainHttp = true) => new()
    {
        Username = flavour.Username,
        Password = password ?? flavour.Password,
        AllowPlainHttp = allowPlainHttp,
        PowerOffTimeout = powerOffTimeout ?? TimeSpan.FromMinutes(2),
        PowerPollInterval = TimeSpan.FromSeconds(5),
        // The fake clock is advanced in big steps while the driver runs; the logout must not time out under it.
        LogoutTimeout = TimeSpan.FromDays(1),
    };

    internal static LeasedCommand Command(FakeRedfishBmc bmc, string hostname) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "bmc-boot", "BmcBoot", 1, hostname, ["02:00:00:00:00:01"], null, bmc.BaseAddress.ToString());

    /// <summary>
    /// Moves the fake clock on in poll-sized steps until the driver is done. Bounded in real time; the steps only ever
    /// release the driver's own poll delays.
    /// </summary>
    internal static async Task<T> DriveAsync<T>(Task<T> running, FakeTimeProvider clock)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!running.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "the driver did not finish within 20 s of real time");
            clock.Advance(TimeSpan.FromSeconds(5));
            await Task.WhenAny(running, Task.Delay(10, TestContext.Current.CancellationToken));
        }

        return await running;
    }

    /// <summary>The fake refuses any request without a live token, so one issued token, one DELETE of it, none open, proves the session's life.</summary>
    internal static void AssertSessionUsedThenDeleted(FakeRedfishBmc bmc, bool deleteIsLast = true)
    {
        var token = Assert.Single(bmc.IssuedTokens);
        var delete = Assert.Single(bmc.Requests, r => r.Method == "DELETE");
        Assert.Equal(token, delete.AuthToken);
        if (deleteIsLast)
        {
            Assert.Equal(delete, bmc.Requests[^1]);
        }

        Assert.Equal(0, bmc.OpenSessions);
    }
}
