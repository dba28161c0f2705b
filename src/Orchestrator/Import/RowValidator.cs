using System.Net;
using System.Net.Sockets;
using Reimage.Orchestrator.Machines;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Import;

/// <summary>
/// Checks one row on its own and turns it into a <see cref="StagedMachine"/>. Every problem is recorded; none
/// stops the row, so one pass over the file reports everything a recovery lead has to fix.
/// </summary>
internal sealed class RowValidator(ColumnMap map, List<ImportIssue> errors, List<ImportIssue> warnings, TimeProvider clock)
{
    /// <summary>NetBIOS names are 15 characters; longer ones are truncated by Windows, so two may collide.</summary>
    public const int NetBiosLength = 15;

    private static readonly char[] IllegalHostnameCharacters = ['\\', '/', ':', '*', '?', '"', '<', '>', '|', ' ', '\t'];
    private static readonly System.Buffers.SearchValues<char> IllegalHostnameSearch = System.Buffers.SearchValues.Create(
        [.. IllegalHostnameCharacters, .. Enumerable.Range(0, 32).Select(c => (char)c), '\x7f']);

    private static readonly char[] ListSeparators = [';', ',', '|', ' ', '\t'];
    private readonly DateTimeOffset _now = clock.GetUtcNow();

    public StagedMachine Validate(int line, string?[] values, int[] supplier, string? operatingSystem, string? distinguishedName)
    {
        var row = new StagedMachine { Line = line, NewId = Guid.CreateVersion7(_now) };

        string Column(ImportField f)
        {
            var sources = map.Sources(f);
            return sources.Length > 0 ? sources[supplier[(int)f]].Header : ImportColumns.All[(int)f].Name;
        }

        void Error(ImportField f, string message) => errors.Add(new ImportIssue(line, Column(f), message));

        string? Text(ImportField f)
        {
            var value = values[(int)f];
            if (IsClearToken(value))
            {
                row.Cleared |= StagedMachine.Bit(f);
                return null;
            }

            var max = ImportColumns.All[(int)f].MaxLength;
            if (value is not null && max > 0 && value.Length > max)
            {
                Error(f, $"value is {value.Length} characters long; the limit is {max}");
                return null;
            }

            return value;
        }

        void NotClearable(ImportField f)
        {
            if (IsClearToken(values[(int)f]))
            {
                Error(f, $"{ImportColumns.ClearToken} cannot clear {ImportColumns.All[(int)f].Name}: every machine has one");
                values[(int)f] = null;
            }
        }

        NotClearable(ImportField.Site);
        NotClearable(ImportField.Role);
        NotClearable(ImportField.Criticality);
        NotClearable(ImportField.RecoveryPath);
        row.Hostname = Hostname(values[(int)ImportField.Hostname], m => Error(ImportField.Hostname, m),
            m => warnings.Add(new ImportIssue(line, Column(ImportField.Hostname), m)));
        row.AssetTag = Text(ImportField.AssetTag);
        row.SerialNumber = Text(ImportField.SerialNumber);
        if (row.SerialNumber is { } serial && IsPlaceholderSerial(serial))
        {
            warnings.Add(new ImportIssue(line, Column(ImportField.SerialNumber),
                $"\"{serial}\" is a manufacturer's placeholder, not a serial number; it was not imported"));
            row.SerialNumber = null;
        }

        if (IsClearToken(values[(int)ImportField.MacAddresses]))
        {
            row.Cleared |= StagedMachine.Bit(ImportField.MacAddresses);
        }
        else if (MacAddresses.TryParseList(values[(int)ImportField.MacAddresses], out var macs, out var invalidMac))
        {
            row.MacAddresses = [.. macs];
        }
        else
        {
            Error(ImportField.MacAddresses, $"\"{invalidMac}\" is not a MAC address (expected e.g. AA:BB:CC:DD:EE:FF, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff or aabbccddeeff)");
        }

        if (IsClearToken(values[(int)ImportField.IpAddress]))
        {
            row.Cleared |= StagedMachine.Bit(ImportField.IpAddress);
        }
        else
        {
            row.IpAddress = IpAddress(values[(int)ImportField.IpAddress], m => Error(ImportField.IpAddress, m));
        }

        row.Site = Text(ImportField.Site);
        row.Building = Text(ImportField.Building);
        row.Floor = Text(ImportField.Floor);
        row.Room = Text(ImportField.Room);
        row.Department = Text(ImportField.Department);
        row.Owner = Text(ImportField.Owner);
        row.Model = Text(ImportField.Model);
        row.DiskType = Text(ImportField.DiskType);
        row.BmcAddress = Text(ImportField.BmcAddress);
        row.ImageProfile = Text(ImportField.ImageProfile);

        var role = values[(int)ImportField.Role];
        row.InferredRole = InferRole(operatingSystem, distinguishedName);
        if (role is not null)
        {
            row.Role = ParseRole(role);
            if (row.Role is null)
            {
                Error(ImportField.Role, $"\"{role}\" is not a role (Workstation, Laptop, Server or DomainController)");
            }
        }

        var criticality = values[(int)ImportField.Criticality];
        if (criticality is not null)
        {
            row.Criticality = ParseCriticality(criticality);
            if (row.Criticality is null)
            {
                Error(ImportField.Criticality, $"\"{criticality}\" is not a criticality (0 to 4, Tier 0 to Tier 4 or T0 to T4; 0 is the most critical)");
            }
        }

        var path = values[(int)ImportField.RecoveryPath];
        if (path is not null)
        {
            row.RecoveryPath = ParsePath(path);
            if (row.RecoveryPath is null)
            {
                Error(ImportField.RecoveryPath, $"\"{path}\" is not a recovery path (Reformat, DriveReplacement or ServerViaBmc)");
            }
        }

        return row;
    }

    /// <summary>Windows (NetBIOS) computer-name rules; returns the name only when it can be used.</summary>
    public static string? Hostname(string? name, Action<string> error, Action<string> warning)
    {
        if (string.IsNullOrEmpty(name))
        {
            error("hostname is required");
            return null;
        }

        // Most names are fine: check cheaply before building any message.
        if (name.Length <= 63 && name.AsSpan().IndexOfAny(IllegalHostnameSearch) < 0 && name[0] is not ('.' or '-')
            && name.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            if (name.Length > NetBiosLength)
            {
                warning($"\"{name}\" is {name.Length} characters long; Windows truncates computer names to 15 characters for NetBIOS");
            }

            return name;
        }

        var problems = new List<string>();
        if (name.Length > 63)
        {
            problems.Add($"it is {name.Length} characters long; the limit is 63");
        }

        var illegal = name.Where(c => IllegalHostnameCharacters.Contains(c) || char.IsControl(c)).Distinct().ToList();
        if (illegal.Count > 0)
        {
            problems.Add("it contains " + string.Join(" ", illegal.Select(c => c switch { ' ' => "a space", '\t' => "a tab", _ when char.IsControl(c) => "a control character", _ => $"'{c}'" })));
        }

        if (name[0] is '.' or '-')
        {
            problems.Add($"it starts with '{name[0]}'");
        }

        if (name.All(char.IsAsciiDigit))
        {
            problems.Add("it is all digits");
        }

        if (problems.Count > 0)
        {
            error($"\"{name}\" cannot be a Windows computer name: {string.Join("; ", problems)}");
            return null;
        }

        if (name.Length > NetBiosLength)
        {
            warning($"\"{name}\" is {name.Length} characters long; Windows truncates computer names to 15 characters for NetBIOS");
        }

        return name;
    }

    private static string? IpAddress(string? value, Action<string> error)
    {
        if (value is null)
        {
            return null;
        }

        // Exports list every address of every NIC ("10.1.2.3, fe80::1"); the first is the one to reach the machine at.
        var first = value.Split(ListSeparators, StringSplitOptions.RemoveEmptyEntries)[0];
        if (IPAddress.TryParse(first, out var address)
            && (address.AddressFamily == AddressFamily.InterNetworkV6 || first.Count(c => c == '.') == 3))
        {
            return address.ToString();
        }

        error($"\"{value}\" is not an IP address");
        return null;
    }

    internal static MachineRole? ParseRole(string value) => ImportColumns.Normalise(value) switch
    {
        "workstation" or "desktop" or "pc" or "computer" or "thinclient" or "kiosk" => MachineRole.Workstation,
        "laptop" or "notebook" or "portable" or "ultrabook" => MachineRole.Laptop,
        "server" or "memberserver" or "virtualserver" or "fileserver" or "vm" => MachineRole.Server,
        "domaincontroller" or "dc" or "rodc" => MachineRole.DomainController,
        _ => null,
    };

    /// <summary>
    /// One scale, 0 (most critical) to 4: the tier model Active Directory teams use (Tier 0 is identity and the
    /// control plane) and the product's own 1 to 4 are the same numbers, written "0", "Tier 0" or "T0".
    /// </summary>
    internal static int? ParseCriticality(string value)
    {
        var normalised = ImportColumns.Normalise(value);
        if (normalised.StartsWith("tier", StringComparison.Ordinal))
        {
            normalised = normalised[4..];
        }
        else if (normalised.StartsWith('t'))
        {
            normalised = normalised[1..];
        }

        return normalised is ['0' or '1' or '2' or '3' or '4'] ? normalised[0] - '0' : null;
    }

    internal static bool IsClearToken(string? value) => string.Equals(value, ImportColumns.ClearToken, StringComparison.OrdinalIgnoreCase);

    /// <summary>What firmware writes when the manufacturer left the serial blank; many machines share each one.</summary>
    private static readonly HashSet<string> PlaceholderSerials = new(StringComparer.Ordinal)
    {
        "tobefilledbyoem", "defaultstring", "systemserialnumber", "chassisserialnumber", "notspecified", "notapplicable", "none", "na",
        "0", "00000000", "0000000000", "123456789", "1234567890", "serial", "oem", "invalid", "unknown",
    };

    internal static bool IsPlaceholderSerial(string serial) => PlaceholderSerials.Contains(ImportColumns.Normalise(serial));

    internal static RecoveryPath? ParsePath(string value) => ImportColumns.Normalise(value) switch
    {
        "reformat" or "reimage" or "wipe" => RecoveryPath.Reformat,
        "drivereplacement" or "replacedrive" or "diskreplacement" or "newdrive" => RecoveryPath.DriveReplacement,
        "serverviabmc" or "bmc" or "redfish" => RecoveryPath.ServerViaBmc,
        _ => null,
    };

    /// <summary>AD exports have no role column, but say where domain controllers live and what OS each runs.</summary>
    private static MachineRole? InferRole(string? operatingSystem, string? distinguishedName) =>
        distinguishedName?.Contains("OU=Domain Controllers", StringComparison.OrdinalIgnoreCase) == true ? MachineRole.DomainController
        : operatingSystem?.Contains("Server", StringComparison.OrdinalIgnoreCase) == true ? MachineRole.Server
        : null;
}
