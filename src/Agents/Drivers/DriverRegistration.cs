using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Reimage.Agents.Protocol;
using Reimage.Agents.Simulation;

namespace Reimage.Agents.Drivers;

/// <summary>Carries each command to the driver for its kind; a kind nobody handles fails clearly.</summary>
public sealed class DriverRouter(IReadOnlyDictionary<string, IMachineDriver> drivers) : IMachineDriver
{
    public Task<CommandResult> ExecuteAsync(AgentCommand command, CancellationToken ct) =>
        drivers.TryGetValue(command.Kind, out var driver)
            ? driver.ExecuteAsync(command, ct)
            : Task.FromResult(new CommandResult(command.Id, false, $"this agent has no driver for '{command.Kind}'"));
}

/// <summary>
/// Wires the agent's driver: the simulated fleet, or the real drivers by command kind (Wake-on-LAN, Redfish, CIM).
/// Secrets for BMCs and WinRM come from files named in the configuration (<c>…:PasswordFile</c>): systemd
/// credentials on Linux, DPAPI-protected <c>.dpapi</c> files on Windows. They live only in this process.
/// </summary>
public static class DriverRegistration
{
    public const string BmcClient = "bmc";

    public static HostApplicationBuilder AddAgentDrivers(this HostApplicationBuilder builder, AgentSettings settings)
    {
        if (settings.Driver == "simulated")
        {
            builder.Services.AddSingleton<IMachineDriver>(sp =>
            {
                var steps = new SimulatedFleetOptions().Steps.ToDictionary(s => s.Key, s => settings.SimulationFailures ? s.Value : s.Value with { FailureRate = 0 });
                var fleet = new SimulatedFleet(new SimulatedFleetOptions { Speed = settings.SimulationSpeed, Steps = steps }, sp.GetRequiredService<TimeProvider>());
                return settings.SimulationJournal is null ? fleet : new JournalingDriver(fleet, settings.SimulationJournal);
            });
            return builder;
        }

        foreach (var section in new[] { RedfishOptions.Section, CimVerificationOptions.Section })
        {
            if (builder.Configuration[$"{section}:PasswordFile"] is { Length: > 0 } file)
            {
                builder.Configuration[$"{section}:Password"] = ReadSecret(file);
            }
        }

        var wol = builder.Configuration.GetSection(WakeOnLanOptions.Section).Get<WakeOnLanOptions>() ?? new WakeOnLanOptions();
        var redfish = builder.Configuration.GetSection(RedfishOptions.Section).Get<RedfishOptions>() ?? new RedfishOptions();
        var cim = builder.Configuration.GetSection(CimVerificationOptions.Section).Get<CimVerificationOptions>() ?? new CimVerificationOptions();
        var pinned = builder.Configuration.GetSection($"{RedfishOptions.Section}:TrustedCertificates").Get<string[]>() ?? [];
        builder.Services.AddHttpClient(BmcClient, c => c.Timeout = TimeSpan.FromMinutes(1))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // A redirect would make the handler resend the login body (the BMC password) to wherever it points.
                AllowAutoRedirect = false,
                SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, errors) => errors == System.Net.Security.SslPolicyErrors.None || Pinned(certificate, pinned) },
            });
        builder.Services.AddSingleton<IMachineDriver>(sp => new DriverRouter(new Dictionary<string, IMachineDriver>
        {
            [WakeOnLanDriver.Kind] = new WakeOnLanDriver(wol, sp.GetRequiredService<ILogger<WakeOnLanDriver>>(), sp.GetRequiredService<TimeProvider>()),
            [RedfishDriver.Kind] = new RedfishDriver(sp.GetRequiredService<IHttpClientFactory>().CreateClient(BmcClient), redfish,
                sp.GetRequiredService<ILogger<RedfishDriver>>(), sp.GetRequiredService<TimeProvider>()),
            [CimVerifier.Kind] = new CimVerifier(cim, sp.GetRequiredService<ILogger<CimVerifier>>()),
        }));
        return builder;
    }

    /// <summary>
    /// BMCs mostly carry self-signed certificates; rather than accept any certificate, the agent accepts those whose
    /// SHA-256 thumbprints the site lists (<c>Agent:Redfish:TrustedCertificates</c>).
    /// </summary>
    private static bool Pinned(X509Certificate? certificate, string[] pinned) =>
        certificate is not null && pinned.Contains(Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)), StringComparer.OrdinalIgnoreCase);

    private static string ReadSecret(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (path.EndsWith(".dpapi", StringComparison.OrdinalIgnoreCase))
        {
            bytes = OperatingSystem.IsWindows() ? Unprotect(bytes) : throw new PlatformNotSupportedException($"{path} is DPAPI-protected; only a Windows agent can read it.");
        }

        return System.Text.Encoding.UTF8.GetString(bytes).Trim();
    }

    [SupportedOSPlatform("windows")]
    private static byte[] Unprotect(byte[] bytes) => ProtectedData.Unprotect(bytes, null, DataProtectionScope.LocalMachine);
}
