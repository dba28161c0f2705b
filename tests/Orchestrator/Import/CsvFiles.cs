using System.Text;
using Reimage.Orchestrator.Import;

namespace Reimage.Orchestrator.Tests.Import;

/// <summary>Builds test files and runs the parsing and validation half of the import (no database).</summary>
internal static class CsvFiles
{
    public const string TemplateHeader =
        "hostname,asset_tag,serial_number,mac_addresses,ip_address,site,building,floor,room,department,owner,role,criticality,model,disk_type,bmc_address,image_profile,recovery_path";

    /// <summary>A valid template row; override columns by name.</summary>
    public static string Row(string hostname, string? serial = null, string? mac = null, string site = "HQ", string role = "Workstation",
        string criticality = "3", string ip = "10.0.0.1", string department = "Finance", string owner = "Jane Doe", string path = "", string bmc = "") =>
        string.Join(',', hostname, "AT-" + hostname, serial ?? "SN-" + hostname, mac ?? "", ip, site, "B1", "2", "201", department, owner, role, criticality,
            "Latitude 7440", "NVMe-512", bmc, "win11", path);

    public static string Template(params string[] rows) => TemplateHeader + "\n" + string.Join("\n", rows) + "\n";

    public static ParsedFile Parse(string text) => Parse(Encoding.UTF8.GetBytes(text));

    public static ParsedFile Parse(byte[] bytes) =>
        FleetCsvParser.Parse(CsvSource.Decode(bytes), TimeProvider.System, TestContext.Current.CancellationToken);

    public static ImportIssue Single(IReadOnlyList<ImportIssue> issues)
    {
        Assert.True(issues.Count == 1, "Expected one issue, got: " + string.Join(" | ", issues));
        return issues[0];
    }
}
