using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Reimage.Agents.Tests;

/// <summary>The agent's own section is checked when it starts; a bad value fails the check, naming its key (the process then exits with code 3: Dashboard/Agents/AgentProcessTests).</summary>
public sealed class AgentServiceTests
{
    [Theory]
    [InlineData("http://reimage.example", null, "Agent:Server")]
    [InlineData(null, null, "Agent:Server")]
    [InlineData("https://reimage.example", "Agent:Driver=Simulated", "Agent:Driver")]
    [InlineData("https://reimage.example", "Agent:MaxInFlight=0", "Agent:MaxInFlight")]
    [InlineData("https://reimage.example", "Agent:HeartbeatInterval=00:00:00", "Agent:HeartbeatInterval")]
    public void StartUpCheck_WithABadSetting_FailsNamingItsKey(string? server, string? setting, string key)
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Validate(server, setting));

        Assert.Contains(failure.Failures, f => f.StartsWith(key, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://reimage.example", null)]
    [InlineData("http://127.0.0.1:5080", "Agent:AllowInsecureHttp=true")]
    [InlineData("https://reimage.example", "Agent:Driver=simulated")]
    public void StartUpCheck_WithGoodSettings_Passes(string server, string? setting) => Validate(server, setting);

    private static void Validate(string? server, string? setting)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Agent:Server"] = server;
        if (setting?.Split('=') is [var name, var value])
        {
            builder.Configuration[name] = value;
        }

        builder.AddAgentService();
        using var host = builder.Build();
        host.Services.GetRequiredService<IStartupValidator>().Validate();
    }
}
