namespace Reimage.Agents.Drivers;

/// <summary>
/// BMC credentials and timings for the <see cref="RedfishDriver"/>. Configuration section <c>Agent:Redfish</c>,
/// loaded from the agent's protected local configuration: credentials never travel in a command.
/// </summary>
/// <remarks>A class rather than a record: a record's generated <c>ToString</c> would print the password into any log that prints the options.</remarks>
public sealed class RedfishOptions
{
    public const string Section = "Agent:Redfish";

    public string Username { get; init; } = "";

    /// <summary>Set from <see cref="PasswordFile"/> at start when that names a file.</summary>
    public string Password { get; set; } = "";

    /// <summary>A file holding the password (a systemd credential, or a DPAPI-protected <c>.dpapi</c> file on Windows).</summary>
    public string? PasswordFile { get; init; }

    /// <summary>
    /// SHA-256 thumbprints (hex) of BMC certificates to accept although they do not chain to a trusted root: BMCs
    /// mostly carry self-signed ones.
    /// </summary>
    public IReadOnlyList<string> TrustedCertificates { get; init; } = [];

    /// <summary>
    /// Plain http would put the BMC password and session token on the wire in clear, on a network an attacker may still
    /// be listening to; only loopback tests and BMCs that cannot do TLS should turn this on.
    /// </summary>
    public bool AllowPlainHttp { get; init; }

    /// <summary>How long a system may take to report <c>Off</c> after a ForceOff before the driver gives up.</summary>
    public TimeSpan PowerOffTimeout { get; init; } = TimeSpan.FromMinutes(2);

    public TimeSpan PowerPollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a system may take to report <c>On</c> after the reset before the boot counts as failed.</summary>
    public TimeSpan PowerOnTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// What to do when the BMC accepts "boot PXE once" but keeps the override <c>Continuous</c> (several do):
    /// <c>Fail</c> (the default: nothing is reset, the step fails saying so) or <c>Accept</c> (boot it anyway; the machine
    /// then network-boots on every restart until someone clears the override, and the result says so).
    /// </summary>
    public string WhenOnceIgnored { get; init; } = "Fail";

    /// <summary>
    /// Bounds the session DELETE, which runs even when the command was cancelled: BMCs allow only a handful of
    /// sessions, and thousands of leaked ones would lock the fleet out until they expire.
    /// </summary>
    public TimeSpan LogoutTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
