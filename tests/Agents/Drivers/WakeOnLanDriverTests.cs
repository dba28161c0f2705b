using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Reimage.Agents.Drivers;
using Reimage.Agents.Protocol;

namespace Reimage.Agents.Tests.Drivers;

public sealed class WakeOnLanDriverTests : IDisposable
{
    // A real socket on loopback stands in for the broadcast domain: the driver sends exactly what a NIC would see.
    private readonly UdpClient _listener = new(new IPEndPoint(IPAddress.Loopback, 0));

    private int ListenerPort => ((IPEndPoint)_listener.Client.LocalEndPoint!).Port;

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Execute_SendsTheMagicPacketToEveryMac_EveryRepeat()
    {
        var driver = Driver(new WakeOnLanOptions { BroadcastAddress = "127.0.0.1", Port = ListenerPort, Repeats = 2, RepeatGap = TimeSpan.Zero });

        var result = await driver.ExecuteAsync(Command("02:00:5E:10:00:01", "AA:BB:CC:DD:EE:FF"), TestContext.Current.CancellationToken);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal($"magic packet sent to 2 MACs via 127.0.0.1:{ListenerPort}", result.Detail);
        var first = Expected(0x02, 0x00, 0x5E, 0x10, 0x00, 0x01);
        var second = Expected(0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF);
        Assert.Equal(first, await ReceiveAsync());
        Assert.Equal(second, await ReceiveAsync());
        Assert.Equal(first, await ReceiveAsync());
        Assert.Equal(second, await ReceiveAsync());
        await AssertNothingMoreSentAsync();
    }

    [Fact]
    public async Task Execute_PacketIsSixFfBytesThenTheMacSixteenTimes()
    {
        var driver = Driver(new WakeOnLanOptions { BroadcastAddress = "127.0.0.1", Port = ListenerPort, Repeats = 1 });

        var result = await driver.ExecuteAsync(Command("10:20:30:40:50:60"), TestContext.Current.CancellationToken);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal("magic packet sent to 1 MAC via 127.0.0.1:" + ListenerPort, result.Detail);
        var packet = await ReceiveAsync();
        Assert.Equal(102, packet.Length);
        Assert.All(packet[..6], b => Assert.Equal(0xFF, b));
        for (var i = 6; i < 102; i += 6)
        {
            Assert.Equal(new byte[] { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60 }, packet[i..(i + 6)]);
        }
    }

    [Fact]
    public async Task Execute_WaitsTheGapOnTheInjectedClockBetweenRepeats()
    {
        var clock = new FakeTimeProvider();
        var driver = new WakeOnLanDriver(new WakeOnLanOptions { BroadcastAddress = "127.0.0.1", Port = ListenerPort, Repeats = 2, RepeatGap = TimeSpan.FromSeconds(1) },
            NullLogger<WakeOnLanDriver>.Instance, clock);

        var running = driver.ExecuteAsync(Command("02:00:00:00:00:07"), TestContext.Current.CancellationToken);
        Assert.Equal(Expected(2, 0, 0, 0, 0, 7), await ReceiveAsync());

        // The second round cannot go before the fake clock moves, so the driver must still be running.
        Assert.False(running.IsCompleted);

        // The driver may not have armed its delay yet when the first packet arrives, so the clock is moved until the
        // second packet comes (ReceiveAsync gives up after 5 s of real time).
        var second = ReceiveAsync();
        while (!second.IsCompleted)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(second, Task.Delay(10, TestContext.Current.CancellationToken));
        }

        Assert.Equal(Expected(2, 0, 0, 0, 0, 7), await second);
        Assert.True((await running).Succeeded);
    }

    [Fact]
    public async Task Execute_WithoutAnyMac_FailsAndSendsNothing()
    {
        var driver = Driver(new WakeOnLanOptions { BroadcastAddress = "127.0.0.1", Port = ListenerPort });

        var result = await driver.ExecuteAsync(Command(), TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Equal("PC042: no MAC address known, cannot send a magic packet", result.Detail);
        await AssertNothingMoreSentAsync();
    }

    [Theory]
    [InlineData("AA:BB:CC:DD:EE")]
    [InlineData("AA:BB:CC:DD:EE:GG")]
    [InlineData("AABBCCDDEEFF")]
    [InlineData("AA:BB:CC:DD:EE:FF:00:11")]
    [InlineData("")]
    [InlineData("not-a-mac")]
    public async Task Execute_WithAMalformedMac_FailsNamingItAndSendsNothing(string bad)
    {
        var driver = Driver(new WakeOnLanOptions { BroadcastAddress = "127.0.0.1", Port = ListenerPort });

        // The good MAC comes first: nothing may be sent for it either when the list holds a bad one.
        var result = await driver.ExecuteAsync(Command("02:00:00:00:00:01", bad), TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Equal($"PC042: malformed MAC address '{bad}'", result.Detail);
        await AssertNothingMoreSentAsync();
    }

    [Fact]
    public async Task Execute_WithAnotherKind_Refuses()
    {
        var driver = Driver(new WakeOnLanOptions { BroadcastAddress = "127.0.0.1", Port = ListenerPort });

        var result = await driver.ExecuteAsync(Command("02:00:00:00:00:01") with { Kind = "verify" }, TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Equal("the Wake-on-LAN driver cannot do 'verify'", result.Detail);
        await AssertNothingMoreSentAsync();
    }

    [Fact]
    public async Task Execute_WithAMisconfiguredBroadcastAddress_FailsClearly()
    {
        var driver = Driver(new WakeOnLanOptions { BroadcastAddress = "broadcast.example", Port = ListenerPort });

        var result = await driver.ExecuteAsync(Command("02:00:00:00:00:01"), TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.StartsWith("Wake-on-LAN is misconfigured", result.Detail, StringComparison.Ordinal);
    }

    private static WakeOnLanDriver Driver(WakeOnLanOptions options) => new(options, NullLogger<WakeOnLanDriver>.Instance);

    private static LeasedCommand Command(params string[] macs) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "network-boot", "NetworkBoot", 1, "PC042", macs, "10.0.0.42", null);

    /// <summary>Written out by hand rather than with the driver's code, so a shared mistake cannot pass.</summary>
    private static byte[] Expected(params byte[] mac) =>
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, .. Enumerable.Repeat(mac, 16).SelectMany(m => m)];

    private async Task<byte[]> ReceiveAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        return (await _listener.ReceiveAsync(timeout.Token)).Buffer;
    }

    /// <summary>
    /// Loopback delivers datagrams from one socket in order, so a marker sent after the driver returned must be the
    /// next thing received unless the driver sent more than expected.
    /// </summary>
    private async Task AssertNothingMoreSentAsync()
    {
        using var marker = new UdpClient(AddressFamily.InterNetwork);
        await marker.SendAsync("end"u8.ToArray(), new IPEndPoint(IPAddress.Loopback, ListenerPort), TestContext.Current.CancellationToken);
        Assert.Equal("end"u8.ToArray(), await ReceiveAsync());
    }
}
