using System.Net;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using Reimage.Agents.Protocol;
using Reimage.Agents.Protocol.Simulation;

namespace Reimage.Agents.Drivers;

/// <summary>Carries each command to the driver for its kind; a kind nobody handles fails clearly.</summary>
public sealed class DriverRouter(IReadOnlyDictionary<string, IMachineDriver> drivers) : IMachineDriver
{
    public Task<CommandResult> ExecuteAsync(LeasedCommand command, CancellationToken ct) =>
        drivers.TryGetValue(command.Kind, out var driver)
            ? driver.ExecuteAsync(command, ct)
            : Task.FromResult(new CommandResult(command.Id, false, $"this agent has no driver for '{command.Kind}'"));
}

/// <summary>
/// Wires the agent's driver: the simulated fleet, or the real drivers by command kind (Wake-on-LAN, Redfish, CIM),
/// after <c>Agent:Driver</c>. Each driver's section is bound once and checked when the host starts. Secrets for BMCs
/// and WinRM come from files named in the configuration (<c>…:PasswordFile</c>): systemd credentials on Linux,
/// DPAPI-protected <c>.dpapi</c> files on Windows. They live only in this process.
/// </summary>
public static class DriverRegistration
{
    public const string BmcClient = "bmc";

    public static HostApplicationBuilder AddAgentDrivers(this HostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WakeOnLanOptions>().BindConfiguration(WakeOnLanOptions.Section)
            .Validate(o => IPAddress.TryParse(o.BroadcastAddress, out _), "Agent:WakeOnLan:BroadcastAddress must be an IP address (the segment's broadcast address).")
            .Validate(o => o.Port is >= 1 and <= IPEndPoint.MaxPort, "Agent:WakeOnLan:Port must be a UDP port (1 to 65535).")
            .Validate(o => o.Repeats >= 1, "Agent:WakeOnLan:Repeats must be at least 1.")
            .Validate(o => o.RepeatGap >= TimeSpan.Zero, "Agent:WakeOnLan:RepeatGap must not be negative.")
            .ValidateOnStart();
        builder.Services.AddOptions<RedfishOptions>().BindConfiguration(RedfishOptions.Section)
            .PostConfigure(o => o.Password = Secret<RedfishOptions>(RedfishOptions.Section, o.PasswordFile) ?? o.Password)
            .Validate(o => o.PowerOffTimeout > TimeSpan.Zero, "Agent:Redfish:PowerOffTimeout must be positive.")
            .Validate(o => o.PowerPollInterval > TimeSpan.Zero, "Agent:Redfish:PowerPollInterval must be positive.")
            .Validate(o => o.LogoutTimeout > TimeSpan.Zero, "Agent:Redfish:LogoutTimeout must be positive.")
            .Validate(o => o.TrustedCertificates.All(Thumbprints.IsSha256),
                "Agent:Redfish:TrustedCertificates must list SHA-256 thumbprints (64 hex digits; colons or spaces between them are fine).")
            .ValidateOnStart();
        builder.Services.AddOptions<CimVerificationOptions>().BindConfiguration(CimVerificationOptions.Section)
            .PostConfigure(o => o.Password = Secret<CimVerificationOptions>(CimVerificationOptions.Section, o.PasswordFile) ?? o.Password)
            .Validate(o => o.Port is >= 0 and <= IPEndPoint.MaxPort, "Agent:Cim:Port must be 0 (the WS-Man default) or a TCP port.")
            .Validate(o => o.Timeout > TimeSpan.Zero, "Agent:Cim:Timeout must be positive.")
            .ValidateOnStart();

        builder.Services.AddHttpClient(BmcClient, c => c.Timeout = TimeSpan.FromMinutes(1))
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var pinned = sp.GetRequiredService<IOptions<RedfishOptions>>().Value.TrustedCertificates;
                return new SocketsHttpHandler
                {
                    // A redirect would make the handler resend the login body (the BMC password) to wherever it points.
                    AllowAutoRedirect = false,
                    SslOptions =
                    {
                        RemoteCertificateValidationCallback = (sender, certificate, _, errors) =>
                            errors == System.Net.Security.SslPolicyErrors.None || Thumbprints.Matches(certificate, pinned)
                            || BmcCertificates.Refused(sender, certificate, errors),
                    },
                };
            });
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<AgentSettings>>().Value.Simulated ? Simulated(sp) : Real(sp));
        return builder;
    }

    private static IMachineDriver Simulated(IServiceProvider sp)
    {
        var settings = sp.GetRequiredService<IOptions<AgentSettings>>().Value;
        var steps = new SimulatedFleetOptions().Steps.ToDictionary(s => s.Key, s => settings.SimulationFailures ? s.Value : s.Value with { FailureRate = 0 });
        var fleet = new SimulatedFleet(new SimulatedFleetOptions { Speed = settings.SimulationSpeed, Steps = steps }, sp.GetRequiredService<TimeProvider>());
        return settings.SimulationJournal is null ? fleet : new JournalingDriver(fleet, settings.SimulationJournal);
    }

    private static DriverRouter Real(IServiceProvider sp) => new(new Dictionary<string, IMachineDriver>
    {
        [WakeOnLanDriver.Kind] = new WakeOnLanDriver(sp.GetRequiredService<IOptions<WakeOnLanOptions>>().Value,
            sp.GetRequiredService<ILogger<WakeOnLanDriver>>(), sp.GetRequiredService<TimeProvider>()),
        [RedfishDriver.Kind] = new RedfishDriver(sp.GetRequiredService<IHttpClientFactory>().CreateClient(BmcClient), sp.GetRequiredService<IOptions<RedfishOptions>>().Value,
            sp.GetRequiredService<ILogger<RedfishDriver>>(), sp.GetRequiredService<TimeProvider>()),
        [CimVerifier.Kind] = new CimVerifier(sp.GetRequiredService<IOptions<CimVerificationOptions>>().Value, sp.GetRequiredService<ILogger<CimVerifier>>()),
    });

    /// <summary>The password in <paramref name="file"/>, when one is named; a file that cannot be read fails the start-up check, naming the key.</summary>
    private static string? Secret<TOptions>(string section, string? file)
    {
        if (string.IsNullOrEmpty(file))
        {
            return null;
        }

        try
        {
            return ReadSecret(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException or CryptographicException)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(TOptions), [$"{section}:PasswordFile: cannot read '{file}' ({e.Message})."]);
        }
    }

    private static string ReadSecret(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (path.EndsWith(".dpapi", StringComparison.OrdinalIgnoreCase))
        {
            bytes = OperatingSystem.IsWindows() ? Unprotect(bytes) : throw new PlatformNotSupportedException($"{path} is DPAPI-protected; only a Windows agent can read it.");
        }

        return SecretText(bytes);
    }

    /// <summary>
    /// A secret file as written: every byte kept (a password may begin or end with a space), but for the one line ending
    /// that <c>echo</c> or an editor adds.
    /// </summary>
    public static string SecretText(byte[] bytes)
    {
        var text = System.Text.Encoding.UTF8.GetString(bytes);
        return text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
    }

    [SupportedOSPlatform("windows")]
    private static byte[] Unprotect(byte[] bytes) => ProtectedData.Unprotect(bytes, null, DataProtectionScope.LocalMachine);
}
