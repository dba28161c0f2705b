namespace Reimage.Agents;

/// <summary>Configuration section <c>Agent</c> (environment variables <c>Agent__Server</c>, …).</summary>
public sealed class AgentSettings
{
    public const string Section = "Agent";

    /// <summary><see cref="Driver"/> values.</summary>
    public const string RealDriver = "real", SimulatedDriver = "simulated";

    /// <summary>The Reimage server's base URL. HTTPS, unless <see cref="AllowInsecureHttp"/> (loopback tests only).</summary>
    public Uri? Server { get; set; }

    /// <summary>
    /// SHA-256 thumbprints of the server's certificate to accept although it does not chain to a root this machine
    /// trusts (a certificate the recovery team made while the organisation's PKI is down). Empty: the normal checks.
    /// </summary>
    public IReadOnlyList<string> ServerCertificates { get; set; } = [];

    /// <summary>The one-time token a lead created for this site; used on first start only.</summary>
    public string? EnrolmentToken { get; set; }

    public string Name { get; set; } = Environment.MachineName;

    /// <summary>Where the agent keeps its credential (0600 on Linux, DPAPI-protected on Windows).</summary>
    public string DataDirectory { get; set; } = OperatingSystem.IsWindows()
        ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "Reimage", "Agent")
        : "/var/lib/reimage-agent";

    /// <summary><c>real</c> (Wake-on-LAN, Redfish, CIM) or <c>simulated</c> (the simulated fleet, for drills and tests).</summary>
    public string Driver { get; set; } = RealDriver;

    public bool AllowInsecureHttp { get; set; }

    public int MaxInFlight { get; set; } = 200;

    /// <summary>How long one fetch waits on the server for work.</summary>
    public TimeSpan LongPoll { get; set; } = TimeSpan.FromSeconds(20);

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Simulated fleet: simulated seconds per real second, and an optional journal of every command carried out.</summary>
    public double SimulationSpeed { get; set; } = 60;

    public string? SimulationJournal { get; set; }

    /// <summary>Whether the simulated fleet fails now and then (its configured rates), or never (for exact drills).</summary>
    public bool SimulationFailures { get; set; } = true;

    public bool Simulated => Driver == SimulatedDriver;
}

/// <summary>Exit codes the service manager and the install scripts rely on.</summary>
public static class ExitCodes
{
    public const int NotEnrolled = 2;
    public const int BadConfiguration = 3;
    public const int CredentialRejected = 4;
}
