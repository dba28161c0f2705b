using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Reimage.Agents.Drivers;
using Reimage.Agents.Protocol;

namespace Reimage.Agents.Tests.Drivers;

public sealed class DriverRegistrationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RealDrivers_AreWiredByCommandKind_FromTheAgentsConfiguration()
    {
        using var listener = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)listener.Client.LocalEndPoint!).Port;
        var secret = Path.GetTempFileName();
        await File.WriteAllTextAsync(secret, "bmc-secret\n", Ct);
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Agent:WakeOnLan:BroadcastAddress"] = "127.0.0.1";
        builder.Configuration["Agent:WakeOnLan:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Configuration["Agent:WakeOnLan:Repeats"] = "1";
        builder.Configuration["Agent:Redfish:PasswordFile"] = secret;
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddAgentDrivers();
        using var host = builder.Build();
        var driver = host.Services.GetRequiredService<IMachineDriver>();

        var woken = await driver.ExecuteAsync(Command("network-boot"), Ct);
        var packet = await listener.ReceiveAsync(Ct);
        var verified = await driver.ExecuteAsync(Command("verify"), Ct);
        var unknown = await driver.ExecuteAsync(Command("format-c"), Ct);

        Assert.True(woken.Succeeded, woken.Detail);
        Assert.Equal(102, packet.Buffer.Length);
        Assert.False(verified.Succeeded);
        Assert.StartsWith(OperatingSystem.IsWindows() ? "" : "CIM verification requires a Windows agent", verified.Detail, StringComparison.Ordinal);
        Assert.Equal("this agent has no driver for 'format-c'", unknown.Detail);
        Assert.Equal("bmc-secret", host.Services.GetRequiredService<IOptions<RedfishOptions>>().Value.Password);
        File.Delete(secret);
    }

    [Theory]
    [InlineData("Agent:Redfish:PasswordFile", "/nonexistent/redfish-password", "Agent:Redfish:PasswordFile")]
    [InlineData("Agent:Cim:PasswordFile", "/nonexistent/cim-password", "Agent:Cim:PasswordFile")]
    [InlineData("Agent:Redfish:TrustedCertificates:0", "AB:CD:EF", "Agent:Redfish:TrustedCertificates")]
    [InlineData("Agent:WakeOnLan:BroadcastAddress", "broadcast.example", "Agent:WakeOnLan:BroadcastAddress")]
    [InlineData("Agent:WakeOnLan:Port", "70000", "Agent:WakeOnLan:Port")]
    [InlineData("Agent:Cim:Timeout", "00:00:00", "Agent:Cim:Timeout")]
    public void StartUpCheck_WithABadDriverSetting_FailsNamingItsKey(string name, string value, string key)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration[name] = value;
        builder.AddAgentDrivers();
        using var host = builder.Build();

        var failure = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(failure.Failures, f => f.StartsWith(key, StringComparison.Ordinal));
    }

    private static LeasedCommand Command(string kind) =>
        new(Guid.NewGuid(), Guid.NewGuid(), kind, "AnyStep", 1, "PC0001", ["02:00:00:00:00:01"], "10.0.0.1", null);
}
