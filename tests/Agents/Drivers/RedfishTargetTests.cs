using Microsoft.Extensions.Time.Testing;
using Reimage.Agents.Drivers;
using Reimage.Agents.Protocol;

namespace Reimage.Agents.Tests.Drivers;

/// <summary>
/// The hardware truths an independent Redfish implementation showed: a chassis manager or blade enclosure lists several
/// systems behind one address (taking the first power-cycled a running server); a BMC answers "Once" with 204 and keeps
/// Continuous; the power lands seconds after the reset's 204, or never. Each test names the behaviour it stands for.
/// </summary>
public sealed class RedfishTargetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly string[] Blades = ["1111", "2222", "3333", "4444"];

    /// <summary>A four-blade enclosure behind one manager: serials, NIC MACs and host names per blade, as vendor mockups carry them.</summary>
    private static readonly BmcFlavour Enclosure = RedfishDriverTests.DellLike with
    {
        UsesETags = false,
        Systems =
        [
            new("/redfish/v1/Systems/1111", "1111", "app-01", SerialNumber: "SN-1111", Macs: ["AA:BB:CC:00:00:01"]),
            new("/redfish/v1/Systems/2222", "2222", "", SerialNumber: "SN-2222", Macs: ["AA:BB:CC:00:00:02", "AA:BB:CC:00:00:22"]),
            new("/redfish/v1/Systems/3333", "3333", "web-01.corp.example", SerialNumber: "SN-3333", Macs: ["AA:BB:CC:00:00:03"]),
            new("/redfish/v1/Systems/4444", "4444", "web-01", SerialNumber: "SN-4444", Macs: ["AA:BB:CC:00:00:04"]),
        ],
    };

    [Fact]
    public async Task SeveralSystems_NoneMatches_FailsNamingWhatTheBmcLists_AndChangesNothing()
    {
        // The case that rebooted the wrong server: dc-rf01 matches no blade by serial, MAC or host name.
        await using var bmc = await FakeRedfishBmc.StartAsync(Enclosure, Ct);
        using var rig = new Rig(Enclosure);

        var result = await rig.Driver.ExecuteAsync(Command(bmc, "dc-rf01", "SN-9999", "02:00:00:00:00:99"), Ct);

        Assert.False(result.Succeeded);
        Assert.Contains("BMC lists 4 system(s) (1111, 2222, 3333, 4444), none matches serial SN-9999", result.Detail, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", result.Detail, StringComparison.Ordinal);
        AssertUntouched(bmc, "1111", "2222", "3333", "4444");
        RedfishDriverTests.AssertSessionUsedThenDeleted(bmc);
    }

    [Theory]
    [InlineData("SN-2222", "02:00:00:00:00:99", "whatever", "2222", "serial SN-2222")]
    [InlineData(null, "aa-bb-cc-00-00-22", "whatever", "2222", "MAC aa-bb-cc-00-00-22")]
    [InlineData(null, null, "APP-01.corp.example", "1111", "host name APP-01.corp.example")]
    public async Task SeveralSystems_TheOneMatchingBySerialThenMacThenHostName_IsBooted_AndOnlyIt(string? serial, string? mac, string hostname, string booted, string identity)
    {
        await using var bmc = await FakeRedfishBmc.StartAsync(Enclosure, Ct);
        using var rig = new Rig(Enclosure);

        var result = await rig.Driver.ExecuteAsync(Command(bmc, hostname, serial, mac), Ct);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Contains($"{booted} ({identity})", result.Detail, StringComparison.Ordinal);
        Assert.Equal(["ForceRestart"], bmc.System($"/redfish/v1/Systems/{booted}").Resets);
        AssertUntouched(bmc, [.. Blades.Where(s => s != booted)]);
    }

    [Fact]
    public async Task SeveralSystems_MatchingTheSameHostName_AreNotGuessedBetween()
    {
        // web-01 and web-01.corp.example: a renamed blade and its stale twin.
        await using var bmc = await FakeRedfishBmc.StartAsync(Enclosure, Ct);
        using var rig = new Rig(Enclosure);

        var result = await rig.Driver.ExecuteAsync(Command(bmc, "web-01", null, null), Ct);

        Assert.False(result.Succeeded);
        Assert.Contains("2 match host name web-01: refusing to guess", result.Detail, StringComparison.Ordinal);
        AssertUntouched(bmc, "1111", "2222", "3333", "4444");
    }

    [Fact]
    public async Task ABmcAddressNamingTheSystem_IsUsedAsGiven_AndRefusedWhenItsSerialIsAnotherMachines()
    {
        await using var bmc = await FakeRedfishBmc.StartAsync(Enclosure, Ct);
        using var rig = new Rig(Enclosure);
        var named = new Uri(bmc.BaseAddress, "/redfish/v1/Systems/2222").ToString();

        // app-01 by host name is blade 1111; the address says 2222, and 2222 it is.
        var asGiven = await rig.Driver.ExecuteAsync(Command(bmc, "app-01", null, null) with { BmcAddress = named }, Ct);
        var wrongSerial = await rig.Driver.ExecuteAsync(Command(bmc, "app-01", "SN-1111", null) with { BmcAddress = named }, Ct);

        Assert.True(asGiven.Succeeded, asGiven.Detail);
        Assert.Contains("2222 (named by the BMC address)", asGiven.Detail, StringComparison.Ordinal);
        Assert.False(wrongSerial.Succeeded);
        Assert.Contains("whose serial SN-2222 is not this machine's (SN-1111)", wrongSerial.Detail, StringComparison.Ordinal);
        Assert.Equal(["ForceRestart"], bmc.System("/redfish/v1/Systems/2222").Resets); // the first boot only
        AssertUntouched(bmc, "1111", "3333", "4444");
    }

    [Fact]
    public async Task ABmcThatIgnoresOnce_FailsTheBootWithoutAReset_UnlessPolicyAcceptsIt_AndTheResultSaysWhich()
    {
        var flavour = RedfishDriverTests.DellLike with { IgnoresOnce = true };
        await using var bmc = await FakeRedfishBmc.StartAsync(flavour, Ct);
        using var strict = new Rig(flavour);
        using var accepting = new Rig(flavour, options: RedfishDriverTests.Options(flavour) is var o ? new RedfishOptions
        {
            Username = o.Username, Password = o.Password, AllowPlainHttp = true, LogoutTimeout = o.LogoutTimeout, WhenOnceIgnored = "Accept",
        } : null);

        var refused = await strict.Driver.ExecuteAsync(RedfishDriverTests.Command(bmc, "pc-dell-01"), Ct);
        var resetsAfterRefusal = bmc.System("/redfish/v1/Systems/System.Embedded.1").Resets.Count;
        var accepted = await accepting.Driver.ExecuteAsync(RedfishDriverTests.Command(bmc, "pc-dell-01"), Ct);

        Assert.False(refused.Succeeded);
        Assert.Contains("ignored \"Once\" and keeps the Pxe override Continuous: not reset", refused.Detail, StringComparison.Ordinal);
        Assert.Equal(0, resetsAfterRefusal);
        Assert.True(accepted.Succeeded, accepted.Detail);
        Assert.Contains("set to PXE boot Continuous: the BMC ignored \"Once\"", accepted.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("boot once", accepted.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PowerThatLandsLate_IsWaitedFor_AndPowerThatNeverComes_FailsTheBoot()
    {
        // Seen: the machine still Off when success was reported; On 2.7–8.8 s after the 204. And a BMC that never switches on.
        var late = RedfishDriverTests.DellLike with { GetsUntilOn = 2, Systems = [RedfishDriverTests.DellLike.Systems[0] with { PowerState = "Off" }] };
        var never = late with { NeverPowersOn = true };
        await using var lateBmc = await FakeRedfishBmc.StartAsync(late, Ct);
        await using var deadBmc = await FakeRedfishBmc.StartAsync(never, Ct);
        var clock = new FakeTimeProvider();
        using var rig = new Rig(late, clock);
        using var deadRig = new Rig(never, clock);

        var landed = await RedfishDriverTests.DriveAsync(rig.Driver.ExecuteAsync(RedfishDriverTests.Command(lateBmc, "pc-dell-01"), Ct), clock);
        var dead = await RedfishDriverTests.DriveAsync(deadRig.Driver.ExecuteAsync(RedfishDriverTests.Command(deadBmc, "pc-dell-01"), Ct), clock);

        Assert.True(landed.Succeeded, landed.Detail);
        // Two reads still said Off, a poll interval (5 s) apart each: at least 10 s on the driver's clock (the test moves
        // that clock on while requests are in flight too, so not exactly 10).
        var seconds = int.Parse(System.Text.RegularExpressions.Regex.Match(landed.Detail!, "reset with On, On after ([0-9]+) s$").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 10, 119);
        Assert.False(dead.Succeeded);
        Assert.Contains("reset sent, but the system still reports PowerState Off after 120 s", dead.Detail, StringComparison.Ordinal);
        RedfishDriverTests.AssertSessionUsedThenDeleted(deadBmc);
    }

    [Theory]
    [InlineData("https://10.1.2.3/redfish/v1/Systems/2222", "/redfish/v1/Systems/2222")]
    [InlineData("bmc.example/redfish/v1/Systems/System.Embedded.1/", "/redfish/v1/Systems/System.Embedded.1/")]
    [InlineData("https://10.1.2.3/redfish/v1/Systems/", null)]
    [InlineData("https://10.1.2.3/", null)]
    [InlineData("10.1.2.3", null)]
    public void SystemPathOf_ReadsTheSystemABmcAddressNames(string address, string? path) =>
        Assert.Equal(path, RedfishDriver.SystemPathOf(address));

    [Theory]
    [InlineData(" pass word \n", " pass word ")]
    [InlineData("secret\r\n", "secret")]
    [InlineData("secret\n\n", "secret\n")]
    [InlineData("  ", "  ")]
    public void APasswordFile_IsKeptByteExact_ButForOneLineEnding(string file, string password) =>
        Assert.Equal(password, DriverRegistration.SecretText(System.Text.Encoding.UTF8.GetBytes(file)));

    private static LeasedCommand Command(FakeRedfishBmc bmc, string hostname, string? serial, string? mac) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "bmc-boot", "BmcBoot", 1, hostname, mac is null ? [] : [mac], null, bmc.BaseAddress.ToString(), serial);

    private static void AssertUntouched(FakeRedfishBmc bmc, params string[] ids)
    {
        foreach (var id in ids)
        {
            var system = bmc.System($"/redfish/v1/Systems/{id}");
            Assert.Empty(system.Resets);
            Assert.Equal(("Disabled", "None"), (system.BootEnabled, system.BootTarget));
            Assert.DoesNotContain(bmc.Requests, r => r.Method is "PATCH" or "POST" && r.Path.StartsWith($"/redfish/v1/Systems/{id}", StringComparison.Ordinal));
        }
    }
}
