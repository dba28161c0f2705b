namespace Reimage.Agents.Drivers;

/// <summary>
/// What a freshly imaged machine must look like, and how to reach it over WS-Man. Configuration section
/// <c>Agent:Cim</c>, loaded from the agent's protected local configuration: credentials never travel in a
/// command.
/// </summary>
/// <remarks>
/// A class rather than a record: a record's generated <c>ToString</c> would print the password. The policy fails closed:
/// an expectation left empty (build, domain, security agent) fails its check instead of passing every machine.
/// </remarks>
public sealed class CimVerificationOptions
{
    public const string Section = "Agent:Cim";

    /// <summary><c>DOMAIN\user</c>, <c>user@domain</c> or a local account; empty uses the agent service's own identity.</summary>
    public string Username { get; init; } = "";

    /// <summary>Set from <see cref="PasswordFile"/> at start when that names a file.</summary>
    public string Password { get; set; } = "";

    /// <summary>A file holding the password (a DPAPI-protected <c>.dpapi</c> file on Windows).</summary>
    public string? PasswordFile { get; init; }

    /// <summary>WS-Man over HTTPS (5986): Kerberos may not be trusted yet on a rebuilt network, so the channel must be.</summary>
    public bool UseSsl { get; init; } = true;

    /// <summary>0 takes the WS-Man default for the transport (5986 with TLS, 5985 without).</summary>
    public int Port { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Text the OS caption must contain, e.g. "Windows 11 Enterprise"; optional, the build is what matters.</summary>
    public string? ExpectedOsCaption { get; init; }

    /// <summary>How Win32_OperatingSystem.BuildNumber must start, e.g. "26100": the golden image's build.</summary>
    public string? ExpectedBuildPrefix { get; init; }

    /// <summary>The AD domain the machine must have joined (Win32_ComputerSystem.Domain).</summary>
    public string? ExpectedDomain { get; init; }

    /// <summary>The EDR/AV service that must be Running before the machine goes back to its user, e.g. "Sense".</summary>
    public string? SecurityAgentService { get; init; }

    /// <summary>0 only checks that the system disk exists; a disk with no room left suggests a failed or foreign image.</summary>
    public long MinimumSystemDiskFreeBytes { get; init; }

    /// <summary>Full paths of files the attacker left (indicators of compromise) that must not exist on a clean image.</summary>
    public IReadOnlyList<string> IocFiles { get; init; } = [];

    /// <summary>Names of services the attacker installed that must not exist on a clean image.</summary>
    public IReadOnlyList<string> IocServices { get; init; } = [];
}
