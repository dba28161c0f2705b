using System.Text;
using Reimage.Orchestrator.Machines;
using static Reimage.Orchestrator.Tests.Import.CsvFiles;

namespace Reimage.Orchestrator.Tests.Import;

public sealed class FileFormatTests
{
    static FileFormatTests() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    [Fact]
    public void Parse_ActiveDirectoryExport_SkipsTypeLineAndCountsItInLineNumbers()
    {
        const string file =
            "#TYPE Microsoft.ActiveDirectory.Management.ADComputer\r\n" +
            "\"DistinguishedName\",\"DNSHostName\",\"Enabled\",\"Name\",\"ObjectClass\",\"IPv4Address\",\"OperatingSystem\",\"Description\",\"SamAccountName\"\r\n" +
            "\"CN=DC01,OU=Domain Controllers,DC=corp,DC=example\",\"dc01.corp.example\",\"True\",\"DC01\",\"computer\",\"10.0.0.10\",\"Windows Server 2022 Standard\",\"\",\"DC01$\"\r\n" +
            "\"CN=APP01,OU=Servers,DC=corp,DC=example\",\"app01.corp.example\",\"True\",\"\",\"computer\",\"10.0.1.20\",\"Windows Server 2019 Datacenter\",\"\",\"APP01$\"\r\n" +
            "\"CN=PC0042,OU=Workstations,DC=corp,DC=example\",\"pc0042.corp.example\",\"True\",\"PC0042\",\"computer\",\"10.1.0.42\",\"Windows 11 Enterprise\",\"\",\"PC0042$\"\r\n" +
            "\"CN=PC0043,OU=Workstations,DC=corp,DC=example\",\"pc0043.corp.example\",\"True\",\"PC0043\",\"computer\",\"999.1.0.42\",\"Windows 11 Enterprise\",\"\",\"PC0043$\"\r\n";

        var parsed = Parse(file);

        Assert.Equal("Active Directory export", parsed.Format);
        Assert.Equal(["DC01", "app01", "PC0042", "PC0043"], parsed.Rows.Select(r => r.Hostname));
        Assert.Equal([MachineRole.DomainController, MachineRole.Server, MachineRole.Workstation], parsed.Rows.Take(3).Select(r => r.NewRole));
        Assert.All(parsed.Rows, r => Assert.Null(r.Role));
        Assert.Equal("10.0.0.10", parsed.Rows[0].IpAddress);
        var error = Single(parsed.Errors);
        Assert.Equal(6, error.Line);
        Assert.Equal("IPv4Address", error.Column);
        var warning = Single(parsed.Warnings);
        Assert.Contains("\"Enabled\"", warning.Message, StringComparison.Ordinal);
        Assert.Equal(2, warning.Line);
    }

    [Fact]
    public void Parse_ConfigurationManagerExport_MapsItsColumns()
    {
        const string file =
            "Name,Client,Site Code,Client Type,Operating System,Manufacturer,Model,Serial Number,MAC Addresses,Primary User(s),Asset Tag\n" +
            "PC0001,Yes,P01,Computer,Microsoft Windows 11 Enterprise,Dell Inc.,Latitude 7440,5CG1234XYZ,00-15-5D-01-02-03,CORP\\jdoe,AT-0001\n" +
            "PC0002,Yes,P01,Computer,Microsoft Windows 11 Enterprise,Dell Inc.,OptiPlex 7010,5CG1234XZZ,00155d010204 00:15:5d:01:02:05,CORP\\asmith,AT-0002\n" +
            "PC0003,Yes,P01,Computer,Microsoft Windows 11 Enterprise,Dell Inc.,OptiPlex 7010,5CG1234XZA,00-15-5D-01-02,CORP\\bjones,AT-0003\n";

        var parsed = Parse(file);

        Assert.Equal("Configuration Manager export", parsed.Format);
        Assert.Equal("P01", parsed.Rows[0].Site);
        Assert.Equal("5CG1234XYZ", parsed.Rows[0].SerialNumber);
        Assert.Equal(["00:15:5D:01:02:03"], parsed.Rows[0].MacAddresses);
        Assert.Equal(["00:15:5D:01:02:04", "00:15:5D:01:02:05"], parsed.Rows[1].MacAddresses);
        Assert.Equal("CORP\\jdoe", parsed.Rows[0].Owner);
        Assert.Equal("AT-0001", parsed.Rows[0].AssetTag);
        var error = Single(parsed.Errors);
        Assert.Equal(new Reimage.Orchestrator.Import.ImportIssue(4, "MAC Addresses", error.Message), error);
        Assert.Contains("00-15-5D-01-02", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ExcelCsvUtf8_DetectsBomAndSemicolons()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(
            "Hostname;Site;Owner;Department\r\nPC01;HQ;Zoë Ångström;Finance, Treasury\r\nPC02;HQ;Ali;IT\r\n")).ToArray();

        var parsed = Parse(bytes);

        Assert.Empty(parsed.Errors);
        Assert.Equal(";", parsed.Delimiter);
        Assert.Equal("UTF-8 with BOM", parsed.Encoding);
        Assert.Equal("PC01", parsed.Rows[0].Hostname);
        Assert.Equal("Zoë Ångström", parsed.Rows[0].Owner);
        Assert.Equal("Finance, Treasury", parsed.Rows[0].Department);
    }

    [Fact]
    public void Parse_Windows1252File_DecodesAccentedOwner()
    {
        var bytes = Encoding.GetEncoding(1252).GetBytes("hostname;site;owner\r\nPC01;HQ;François Müller\r\n");

        var parsed = Parse(bytes);

        Assert.Empty(parsed.Errors);
        Assert.Equal("Windows-1252", parsed.Encoding);
        Assert.Equal("François Müller", parsed.Rows[0].Owner);
    }

    [Fact]
    public void Parse_TabDelimited_DetectsTabs()
    {
        var parsed = Parse("host_name\tSITE\tserial number\nPC01\tHQ\tS1\nPC02\tHQ\tS2\n");

        Assert.Empty(parsed.Errors);
        Assert.Equal("\t", parsed.Delimiter);
        Assert.Equal(["S1", "S2"], parsed.Rows.Select(r => r.SerialNumber));
    }

    [Fact]
    public void Parse_QuotedFieldsWithDelimitersAndNewlines_KeepPhysicalLineNumbers()
    {
        const string file =
            "hostname,site,department,owner,role\n" +
            "PC01,HQ,\"Finance, Treasury\",\"Doe, Jane\",Workstation\n" +
            "PC02,HQ,\"Legal\nand\nCompliance\",\"He said \"\"hi\"\"\",Workstation\n" +
            "PC03,HQ,IT,Bob,Toaster\n";

        var parsed = Parse(file);

        Assert.Equal("Finance, Treasury", parsed.Rows[0].Department);
        Assert.Equal("Legal\nand\nCompliance", parsed.Rows[1].Department);
        Assert.Equal("He said \"hi\"", parsed.Rows[1].Owner);
        var error = Single(parsed.Errors);
        Assert.Equal(6, error.Line);
        Assert.Equal("role", error.Column);
    }

    [Fact]
    public void Parse_UnknownHeadersOnly_ReportsMissingHostnameColumn()
    {
        var parsed = Parse("foo,bar\n1,2\n");

        Assert.Contains(parsed.Errors, e => e.Line == 1 && e.Message.Contains("no hostname column", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_HeaderAliases_IgnoreCaseSpacesAndUnderscores()
    {
        var parsed = Parse("Computer Name,SITE_CODE,Serial_Number,IP Address,Recovery Path\nPC01,HQ,S1,10.0.0.1,drive replacement\n");

        Assert.Empty(parsed.Errors);
        Assert.Empty(parsed.Warnings);
        Assert.Equal(Reimage.Orchestrator.Workflow.RecoveryPath.DriveReplacement, parsed.Rows[0].RecoveryPath);
    }

    [Fact]
    public void Parse_IntuneDeviceExport_MapsItsColumns()
    {
        // Intune admin centre, Devices > Export: a BOM, bare MACs, Wi-Fi and Ethernet MACs in two columns, and the
        // same USB-C Ethernet dongle (00E04C680001) on two laptops.
        var parsed = Parse(File.ReadAllBytes(Fixture("intune-devices.csv")));

        Assert.Empty(parsed.Errors);
        Assert.Equal(["RUH-LT0101", "RUH-LT0102", "JED-LT0007"], parsed.Rows.Select(r => r.Hostname));
        Assert.Equal(["48:A4:72:C3:B0:D2", "00:E0:4C:68:00:01"], parsed.Rows[1].MacAddresses.Order(StringComparer.Ordinal).Reverse());
        Assert.Equal("نورة الحربي", parsed.Rows[1].Owner);
        Assert.Equal(("PF4XYZ01", "21HES1X200", "10.20.9.14"), (parsed.Rows[0].SerialNumber, parsed.Rows[0].Model, parsed.Rows[0].IpAddress));
        Assert.Contains(parsed.Warnings, w => w.Line == 4 && w.Message.Contains("00:E0:4C:68:00:01", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_LansweeperAssetExport_MapsItsColumns()
    {
        var parsed = Parse(File.ReadAllBytes(Fixture("lansweeper-assets.csv")));

        Assert.Empty(parsed.Errors);
        Assert.Equal(["RUH-SRV-FS01", "RUH-WS0200", "VM-APP07"], parsed.Rows.Select(r => r.Hostname));
        Assert.Equal(("9ZP4QR2", "B0:7B:25:10:00:30", "10.20.1.30", "Noura Al-Harbi", "B1"),
            (parsed.Rows[0].SerialNumber, parsed.Rows[0].MacAddresses[0], parsed.Rows[0].IpAddress, parsed.Rows[0].Owner, parsed.Rows[0].Building));
        Assert.Equal("Riyadh HQ", parsed.Rows[0].Location);
        Assert.Equal("VMware-42 1a 2b 3c", parsed.Rows[2].SerialNumber);
    }

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Import", "Fixtures", name);
}
