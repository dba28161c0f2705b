using System.Runtime.Versioning;
using System.Security;
using Microsoft.Management.Infrastructure;
using Microsoft.Management.Infrastructure.Options;

namespace Reimage.Agents.Drivers;

/// <summary>
/// Gathers <see cref="MachineFacts"/> from a remote machine over WS-Man with Microsoft.Management.Infrastructure.
/// Windows-only: the MMI client needs the Windows WinRM stack, the Linux build of it has no WS-Man client.
/// </summary>
[SupportedOSPlatform("windows")]
internal static class CimFactCollector
{
    private const string Namespace = @"root\cimv2";
    private const string Wql = "WQL";

    /// <summary>MMI's calls block; they run on the thread pool and stop when <paramref name="ct"/> fires.</summary>
    public static Task<MachineFacts> CollectAsync(string target, CimVerificationOptions options, CancellationToken ct) =>
        Task.Run(() => Collect(target, options, ct), ct);

    private static MachineFacts Collect(string target, CimVerificationOptions options, CancellationToken ct)
    {
        using var sessionOptions = new WSManSessionOptions { UseSsl = options.UseSsl, Timeout = options.Timeout };
        if (options.Port > 0)
        {
            sessionOptions.DestinationPort = (uint)options.Port;
        }

        using var password = new SecureString();
        if (options.Username.Length > 0)
        {
            foreach (var c in options.Password)
            {
                password.AppendChar(c);
            }

            password.MakeReadOnly();
            var (domain, user) = SplitAccount(options.Username);
            sessionOptions.AddDestinationCredentials(new CimCredential(PasswordAuthenticationMechanism.Default, domain, user, password));
        }

        using var operation = new CimOperationOptions { CancellationToken = ct, Timeout = options.Timeout };
        using var session = CimSession.Create(target, sessionOptions);

        var os = Query(session, operation, "SELECT Caption, BuildNumber, SystemDrive FROM Win32_OperatingSystem").FirstOrDefault();
        var computer = Query(session, operation, "SELECT DNSHostName, Name, Domain, PartOfDomain FROM Win32_ComputerSystem").FirstOrDefault();
        var systemDrive = Text(os, "SystemDrive");
        var disk = systemDrive is null ? null
            : Query(session, operation, $"SELECT DeviceID, Size, FreeSpace FROM Win32_LogicalDisk WHERE DeviceID = '{Escape(systemDrive)}'").FirstOrDefault();

        return new MachineFacts
        {
            OsCaption = Text(os, "Caption")?.Trim(),
            OsBuildNumber = Text(os, "BuildNumber"),
            DnsHostName = Text(computer, "DNSHostName"),
            ComputerName = Text(computer, "Name"),
            Domain = Text(computer, "Domain"),
            PartOfDomain = computer?.GetValueOrDefault("PartOfDomain") is true,
            SystemDisk = disk is null ? null
                : new SystemDisk(Text(disk, "DeviceID") ?? systemDrive!, Convert.ToUInt64(disk.GetValueOrDefault("Size") ?? 0UL), Convert.ToUInt64(disk.GetValueOrDefault("FreeSpace") ?? 0UL)),
            SecurityAgentState = string.IsNullOrWhiteSpace(options.SecurityAgentService) ? null : ServiceState(session, operation, options.SecurityAgentService),
            // CIM_DataFile's key is the full path, so a WHERE on Name is a lookup, not a disk scan.
            IocFilesPresent = [.. options.IocFiles.Where(f => Query(session, operation, $"SELECT Name FROM CIM_DataFile WHERE Name = '{Escape(f)}'").Count > 0)],
            IocServicesPresent = [.. options.IocServices.Where(s => ServiceState(session, operation, s) is not null)],
        };
    }

    private static string? ServiceState(CimSession session, CimOperationOptions operation, string name) =>
        Text(Query(session, operation, $"SELECT Name, State FROM Win32_Service WHERE Name = '{Escape(name)}'").FirstOrDefault(), "State");

    /// <summary>Copies each instance's properties out and disposes it: CimInstance holds a native handle.</summary>
    private static List<Dictionary<string, object?>> Query(CimSession session, CimOperationOptions operation, string wql)
    {
        var rows = new List<Dictionary<string, object?>>();
        foreach (var instance in session.QueryInstances(Namespace, Wql, wql, operation))
        {
            using (instance)
            {
                rows.Add(instance.CimInstanceProperties.ToDictionary(p => p.Name, object? (p) => p.Value, StringComparer.OrdinalIgnoreCase));
            }
        }

        return rows;
    }

    private static string? Text(Dictionary<string, object?>? row, string name) => row?.GetValueOrDefault(name) as string;

    /// <summary>WQL string literals escape backslash and quote with a backslash; paths come from configuration, drives from the machine.</summary>
    private static string Escape(string value) => value.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("'", @"\'", StringComparison.Ordinal);

    private static (string Domain, string User) SplitAccount(string account)
    {
        var slash = account.IndexOf('\\', StringComparison.Ordinal);
        return slash > 0 ? (account[..slash], account[(slash + 1)..]) : ("", account);
    }
}
