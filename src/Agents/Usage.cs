using System.Reflection;

namespace Reimage.Agents;

/// <summary>What <c>--help</c> prints: how the agent is configured and enrolled, and what its exit codes mean.</summary>
public static class Usage
{
    public static string Version { get; } =
        typeof(Usage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(Usage).Assembly.GetName().Version?.ToString() ?? "unknown";

    public static string Text =>
        $"""
        reimage-agent {Version}: the Reimage site agent (wakes, boots and verifies this site's machines).

        usage: reimage-agent [--help | --version]
               settings come from appsettings.json, the environment (Agent__…) and the command line (--Agent:Server=…)

        settings (environment names; the install scripts write them, see deploy/agent/README.md):
          Agent__Server                     the Reimage server's https:// address (required)
          Agent__EnrolmentToken             the one-time token a lead made for this site (first start only)
          Agent__Name                       this agent's name (default: the machine name)
          Agent__DataDirectory              where the credential is kept (0600 / DPAPI)
          Agent__ServerCertificates__0      SHA-256 fingerprint of a server certificate to trust (colons allowed)
          Agent__Driver                     real (default) or simulated
          Agent__WakeOnLan__BroadcastAddress, __Port
          Agent__Redfish__Username, __PasswordFile, __TrustedCertificates__0, __WhenOnceIgnored (Fail|Accept), __PowerOnTimeout
          Agent__Cim__Username, __PasswordFile (Windows agents only)

        exit codes:
          0  stopped normally
          2  not enrolled and no enrolment token: give it Agent__EnrolmentToken
          3  bad configuration: the log names every bad key (no restart)
          4  the server refused the credential (revoked): re-enrol (no restart)

        """;
}
