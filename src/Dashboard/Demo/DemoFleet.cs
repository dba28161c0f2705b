using System.Globalization;
using System.Text;

namespace Reimage.Dashboard.Demo;

/// <summary>A demo site: where it is, its time zone and its share of the fleet.</summary>
public sealed record DemoSite(string Code, string Name, string TimeZone, int Machines, int Technicians, int ImagingSlots);

/// <summary>
/// Generates a realistic fleet as an import file in the Reimage template, so the demo goes through the same
/// import path as a real fleet: domain controllers, servers, workstations and laptops across sites, buildings,
/// floors and departments, with criticality tiers. Deterministic for a given seed.
/// </summary>
public static class DemoFleet
{
    public static IReadOnlyList<DemoSite> Sites { get; } =
    [
        new("DHA", "Dhahran Headquarters", "Asia/Riyadh", 7200, 24, 60),
        new("RTN", "Ras Tanura Refinery", "Asia/Riyadh", 3100, 10, 30),
        new("ABQ", "Abqaiq Processing", "Asia/Riyadh", 2600, 8, 25),
        new("RUH", "Riyadh Office", "Asia/Riyadh", 3300, 10, 30),
        new("JED", "Jeddah Office", "Asia/Riyadh", 2500, 8, 25),
        new("YNB", "Yanbu Terminal", "Asia/Riyadh", 1700, 6, 20),
        new("HOU", "Houston Office", "America/Chicago", 2400, 8, 25),
        new("LON", "London Office", "Europe/London", 1600, 6, 20),
        new("ROT", "Rotterdam Terminal", "Europe/Amsterdam", 1500, 5, 20),
        new("SIN", "Singapore Trading", "Asia/Singapore", 1400, 5, 15),
        new("TYO", "Tokyo Office", "Asia/Tokyo", 1100, 4, 15),
        new("CPH", "Copenhagen Shipping", "Europe/Copenhagen", 1600, 6, 20),
    ];

    private static readonly string[] Departments =
        ["Finance", "Operations", "Engineering", "HR", "Legal", "Procurement", "IT", "Trading", "Logistics", "HSE", "Marketing", "Executive Office"];

    private static readonly string[] FirstNames =
        ["Ahmed", "Fatima", "Omar", "Layla", "James", "Maria", "Wei", "Yuki", "Lars", "Sofia", "Hassan", "Noura", "David", "Aisha", "Kenji", "Emma"];

    private static readonly string[] LastNames =
        ["Al-Qahtani", "Al-Harbi", "Smith", "Garcia", "Chen", "Tanaka", "Jensen", "de Vries", "Khan", "Al-Otaibi", "Brown", "Lim", "Nielsen", "Rossi"];

    public static int MachineCount => Sites.Sum(s => s.Machines);

    /// <summary>The whole demo fleet as CSV text in the Reimage import template.</summary>
    public static string Csv(int seed = 2012)
    {
        var random = new Random(seed);
        var csv = new StringBuilder(MachineCount * 160);
        csv.AppendLine("hostname,asset_tag,serial_number,mac_addresses,ip_address,site,building,floor,room,department,owner,role,criticality,model,disk_type,bmc_address,image_profile,recovery_path");
        var serial = 0;
        foreach (var (site, siteIndex) in Sites.Select((s, i) => (s, i)))
        {
            for (var n = 0; n < site.Machines; n++)
            {
                serial++;
                var (role, prefix) = n switch
                {
                    < 2 => ("DomainController", "DC"),
                    _ when n % 20 == 0 => ("Server", "SV"),
                    _ when n % 5 < 2 => ("Laptop", "LT"),
                    _ => ("Workstation", "WS"),
                };
                var department = role is "DomainController" or "Server" ? "IT" : Departments[random.Next(Departments.Length)];
                var criticality = role switch
                {
                    "DomainController" => 1,
                    "Server" => n % 60 == 0 ? 1 : 2,
                    _ => department is "Finance" or "Trading" or "Operations" or "Executive Office" ? 3 : 4,
                };
                var building = role is "DomainController" or "Server" ? "DC1" : $"B{1 + random.Next(4)}";
                var floor = role is "DomainController" or "Server" ? "0" : (1 + random.Next(6)).ToString(CultureInfo.InvariantCulture);
                var isServer = role is "DomainController" or "Server";
                var mac = Mac(siteIndex, serial);
                var macs = role == "Laptop" ? $"{mac};{Mac(siteIndex + 100, serial)}" : mac; // laptops: wired dock + Wi-Fi
                var owner = isServer ? "" : $"{FirstNames[random.Next(FirstNames.Length)]} {LastNames[random.Next(LastNames.Length)]}";
                var model = role switch
                {
                    "Laptop" => "Latitude 7440",
                    "Workstation" => random.Next(3) == 0 ? "OptiPlex 7010" : "EliteDesk 800 G9",
                    _ => "PowerEdge R750",
                };
                var disk = role switch { "Laptop" => "NVMe-512", "Workstation" => "SATA-SSD-256", _ => "SAS-SSD-960" };
                var bmc = isServer ? $"https://10.{siteIndex + 10}.250.{n % 250}" : "";
                var profile = isServer ? "WS2022-Std" : "Win11-23H2-Corp";
                var path = isServer ? "ServerViaBmc" : random.Next(10) < 3 ? "DriveReplacement" : "Reformat";
                csv.Append(CultureInfo.InvariantCulture,
                    $"{site.Code}{prefix}{n:D5},AT{serial:D7},SN{siteIndex:D2}{serial:D8},{macs},10.{siteIndex + 10}.{n / 250 % 250}.{n % 250 + 1},{site.Code},{building},{floor},{(isServer ? "Server room" : $"R{random.Next(1, 40):D2}")},{department},{owner},{role},{criticality},{model},{disk},{bmc},{profile},{path}\n");
            }
        }

        return csv.ToString();
    }

    /// <summary>A locally administered, unique MAC address (02:…) derived from the site and serial number.</summary>
    private static string Mac(int site, int serial) =>
        string.Create(CultureInfo.InvariantCulture, $"02:{site:X2}:{(serial >> 24) & 0xFF:X2}:{(serial >> 16) & 0xFF:X2}:{(serial >> 8) & 0xFF:X2}:{serial & 0xFF:X2}");
}
