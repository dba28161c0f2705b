namespace Reimage.Orchestrator.Import;

/// <summary>The template's columns, in template order.</summary>
internal enum ImportField
{
    Hostname,
    AssetTag,
    SerialNumber,
    MacAddresses,
    IpAddress,
    Site,
    Building,
    Floor,
    Room,
    Department,
    Owner,
    Role,
    Criticality,
    Model,
    DiskType,
    BmcAddress,
    ImageProfile,
    RecoveryPath,
}

/// <summary>How a value from an export is turned into the template's meaning before validation.</summary>
internal enum ValueShape
{
    AsIs,

    /// <summary>DNSHostName "pc01.corp.example" → "pc01".</summary>
    FirstDnsLabel,

    /// <summary>sAMAccountName "PC01$" → "PC01".</summary>
    AccountName,

    /// <summary>ManagedBy "CN=Jane Doe,OU=Staff,DC=corp" → "Jane Doe".</summary>
    DistinguishedNameCn,
}

/// <summary>One template column: its name, the database limit and the headers other exports use for it.</summary>
internal sealed record TemplateColumn(ImportField Field, string Name, int MaxLength, (string Header, ValueShape Shape)[] Aliases);

internal static class ImportColumns
{
    // Limits are the database column lengths (each feature's *Configuration.cs); 0 = not a free-text column.
    // Aliases are listed in priority order: when a file has several, the first non-empty one on the row wins.
    public static readonly TemplateColumn[] All =
    [
        new(ImportField.Hostname, "hostname", 63,
            [("hostname", ValueShape.AsIs), ("name", ValueShape.AsIs), ("computername", ValueShape.AsIs), ("computer", ValueShape.AsIs),
             ("devicename", ValueShape.AsIs), ("machinename", ValueShape.AsIs), ("netbiosname", ValueShape.AsIs), ("host", ValueShape.AsIs),
             ("assetname", ValueShape.AsIs), ("dnshostname", ValueShape.FirstDnsLabel), ("samaccountname", ValueShape.AccountName)]),
        new(ImportField.AssetTag, "asset_tag", 64, [("assettag", ValueShape.AsIs), ("assetnumber", ValueShape.AsIs), ("assetid", ValueShape.AsIs), ("asset", ValueShape.AsIs)]),
        new(ImportField.SerialNumber, "serial_number", 64,
            [("serialnumber", ValueShape.AsIs), ("serial", ValueShape.AsIs), ("serialno", ValueShape.AsIs), ("biosserialnumber", ValueShape.AsIs), ("servicetag", ValueShape.AsIs)]),
        new(ImportField.MacAddresses, "mac_addresses", 0, [("macaddresses", ValueShape.AsIs), ("macaddress", ValueShape.AsIs), ("macs", ValueShape.AsIs), ("mac", ValueShape.AsIs),
             ("ethernetmac", ValueShape.AsIs), ("wifimac", ValueShape.AsIs)]),
        new(ImportField.IpAddress, "ip_address", 45,
            [("ipaddress", ValueShape.AsIs), ("ipv4address", ValueShape.AsIs), ("ipaddresses", ValueShape.AsIs), ("ip", ValueShape.AsIs), ("ipv6address", ValueShape.AsIs),
             ("wifiipv4address", ValueShape.AsIs)]),
        new(ImportField.Site, "site", 32, [("site", ValueShape.AsIs), ("sitecode", ValueShape.AsIs)]),
        new(ImportField.Building, "building", 64, [("building", ValueShape.AsIs), ("bldg", ValueShape.AsIs)]),
        new(ImportField.Floor, "floor", 16, [("floor", ValueShape.AsIs), ("level", ValueShape.AsIs)]),
        new(ImportField.Room, "room", 32, [("room", ValueShape.AsIs), ("roomnumber", ValueShape.AsIs)]),
        new(ImportField.Department, "department", 64, [("department", ValueShape.AsIs), ("dept", ValueShape.AsIs), ("businessunit", ValueShape.AsIs)]),
        new(ImportField.Owner, "owner", 128,
            [("owner", ValueShape.AsIs), ("primaryusers", ValueShape.AsIs), ("primaryuser", ValueShape.AsIs), ("topconsoleuser", ValueShape.AsIs),
             ("primaryuserdisplayname", ValueShape.AsIs), ("primaryuserupn", ValueShape.AsIs), ("assignedto", ValueShape.AsIs), ("user", ValueShape.AsIs),
             ("username", ValueShape.AsIs), ("contact", ValueShape.AsIs), ("managedby", ValueShape.DistinguishedNameCn)]),
        new(ImportField.Role, "role", 0, [("role", ValueShape.AsIs), ("machinerole", ValueShape.AsIs), ("devicetype", ValueShape.AsIs), ("chassistype", ValueShape.AsIs)]),
        new(ImportField.Criticality, "criticality", 0, [("criticality", ValueShape.AsIs), ("tier", ValueShape.AsIs), ("priority", ValueShape.AsIs)]),
        new(ImportField.Model, "model", 64, [("model", ValueShape.AsIs), ("computermodel", ValueShape.AsIs), ("hardwaremodel", ValueShape.AsIs)]),
        new(ImportField.DiskType, "disk_type", 32, [("disktype", ValueShape.AsIs), ("drivetype", ValueShape.AsIs), ("disk", ValueShape.AsIs)]),
        new(ImportField.BmcAddress, "bmc_address", 255,
            [("bmcaddress", ValueShape.AsIs), ("bmc", ValueShape.AsIs), ("idrac", ValueShape.AsIs), ("ilo", ValueShape.AsIs), ("ipmi", ValueShape.AsIs), ("oobaddress", ValueShape.AsIs)]),
        new(ImportField.ImageProfile, "image_profile", 64, [("imageprofile", ValueShape.AsIs), ("image", ValueShape.AsIs), ("tasksequence", ValueShape.AsIs)]),
        new(ImportField.RecoveryPath, "recovery_path", 0, [("recoverypath", ValueShape.AsIs), ("path", ValueShape.AsIs)]),
    ];

    /// <summary>
    /// The dashboard export's read-only columns (derived or recovery state): skipped without a warning, so that the
    /// export imports as it is.
    /// </summary>
    public static readonly HashSet<string> ExportOnlyHeaders =
        ["sharedmacaddresses", "wave", "state", "step", "attempt", "statechangedat", "failurereason"];

    /// <summary>Export columns that are read (to infer a machine's role) although they are not template columns.</summary>
    public const string OperatingSystemHeader = "operatingsystem";
    public const string DistinguishedNameHeader = "distinguishedname";

    public const int SiteNameMaxLength = 128;

    /// <summary>A cell with this text (any case) empties the field; an empty cell leaves it as it is.</summary>
    public const string ClearToken = "#clear";

    /// <summary>The longest value any cell may hold, in ignored columns too: nothing in an inventory is longer.</summary>
    public const int MaxCellLength = 4096;

    /// <summary>Headers compare without case, spaces, underscores or punctuation: "Primary User(s)" = "primaryusers".</summary>
    public static string Normalise(string header)
    {
        Span<char> buffer = header.Length <= 256 ? stackalloc char[header.Length] : new char[header.Length];
        var length = 0;
        foreach (var c in header)
        {
            if (char.IsLetterOrDigit(c))
            {
                buffer[length++] = char.ToLowerInvariant(c);
            }
        }

        return new string(buffer[..length]);
    }
}
