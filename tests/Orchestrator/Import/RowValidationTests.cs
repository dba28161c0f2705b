using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Machines;
using Reimage.Orchestrator.Workflow;
using static Reimage.Orchestrator.Tests.Import.CsvFiles;

namespace Reimage.Orchestrator.Tests.Import;

/// <summary>Each bad input is reported as one error naming its physical line and the column as written.</summary>
public sealed class RowValidationTests
{
    [Fact]
    public void Validate_ValidTemplateRows_ReportsNothing()
    {
        var parsed = Parse(Template(Row("PC01", mac: "aa:bb:cc:00:00:01"), Row("PC02", mac: "aa:bb:cc:00:00:02")));

        Assert.Empty(parsed.Errors);
        Assert.Empty(parsed.Warnings);
        Assert.Equal(2, parsed.Rows.Count);
        Assert.Equal("Reimage template", parsed.Format);
    }

    [Fact]
    public void Validate_MissingHostname_IsErrorOnItsLine()
    {
        var issue = Single(Parse(Template(Row("PC01"), Row(""))).Errors);

        Assert.Equal(new ImportIssue(3, "hostname", "hostname is required"), issue);
    }

    [Theory]
    [InlineData("Mainframe", "role")]
    [InlineData("5", "criticality")]
    [InlineData("Tier 5", "criticality")]
    [InlineData("high", "criticality")]
    [InlineData("10.0.0.256", "ip_address")]
    [InlineData("not-an-ip", "ip_address")]
    [InlineData("nonsense", "mac_addresses")]
    [InlineData("Teleport", "recovery_path")]
    public void Validate_InvalidValue_IsErrorNamingTheColumn(string value, string column)
    {
        var row = column switch
        {
            "role" => Row("PC01", role: value),
            "criticality" => Row("PC01", criticality: value),
            "ip_address" => Row("PC01", ip: value),
            "mac_addresses" => Row("PC01", mac: value),
            _ => Row("PC01", path: value),
        };

        var issue = Single(Parse(Template(row)).Errors);

        Assert.Equal(2, issue.Line);
        Assert.Equal(column, issue.Column);
        Assert.Contains(value, issue.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Domain Controller", MachineRole.DomainController)]
    [InlineData("DC", MachineRole.DomainController)]
    [InlineData("desktop", MachineRole.Workstation)]
    [InlineData("Notebook", MachineRole.Laptop)]
    [InlineData("SERVER", MachineRole.Server)]
    public void Validate_RoleAlias_IsAccepted(string value, Machines.MachineRole role)
    {
        var parsed = Parse(Template(Row("PC01", role: value)));

        Assert.Empty(parsed.Errors);
        Assert.Equal(role, parsed.Rows[0].Role);
        Assert.Equal(role, parsed.Rows[0].NewRole);
    }

    [Theory]
    [InlineData("Tier 1", 1)]
    [InlineData("tier4", 4)]
    [InlineData("2", 2)]
    // The Active Directory tier model: Tier 0 is identity and the control plane, the most critical of all.
    [InlineData("Tier 0", 0)]
    [InlineData("T0", 0)]
    [InlineData("0", 0)]
    [InlineData("t2", 2)]
    public void Validate_CriticalityAsTier_IsAccepted(string value, int tier)
    {
        var parsed = Parse(Template(Row("PC01", criticality: value)));

        Assert.Empty(parsed.Errors);
        Assert.Equal(tier, parsed.Rows[0].Criticality);
    }

    [Fact]
    public void Validate_HostnameOf16Characters_IsOnlyAWarning()
    {
        var parsed = Parse(Template(Row("ABCDEFGHIJKLMNOP")));

        Assert.Empty(parsed.Errors);
        var warning = Single(parsed.Warnings);
        Assert.Equal(2, warning.Line);
        Assert.Contains("15 characters", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_HostnameOf64Characters_IsAnError()
    {
        var issue = Single(Parse(Template(Row(new string('a', 64), serial: "S1").Replace("AT-" + new string('a', 64), "AT1", StringComparison.Ordinal))).Errors);

        Assert.Equal("hostname", issue.Column);
        Assert.Contains("limit is 63", issue.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PC 01")]
    [InlineData("PC*01")]
    [InlineData("PC?01")]
    [InlineData("PC/01")]
    [InlineData("PC\\01")]
    [InlineData("PC:01")]
    [InlineData("PC<01>")]
    [InlineData("PC|01")]
    [InlineData(".PC01")]
    [InlineData("-PC01")]
    [InlineData("123456")]
    public void Validate_HostnameWindowsCannotUse_IsAnError(string hostname)
    {
        var issue = Single(Parse(Template(Row(hostname))).Errors);

        Assert.Equal("hostname", issue.Column);
        Assert.Contains("cannot be a Windows computer name", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_HostnamesDifferingOnlyInCase_IsAnErrorNamingBothLines()
    {
        var issue = Single(Parse(Template(Row("PC01", serial: "S1"), Row("PC02", serial: "S2"), Row("pc01", serial: "S3"))).Errors);

        Assert.Equal(4, issue.Line);
        Assert.Contains("lines 2 and 4", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DuplicateSerial_IsAnErrorNamingBothLines()
    {
        var issue = Single(Parse(Template(Row("PC01", serial: "ABC123"), Row("PC02", serial: "ABC123"))).Errors);

        Assert.Equal(new ImportIssue(3, "serial_number", issue.Message), issue);
        Assert.Contains("lines 2 and 3", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SameMacInDifferentNotationsOnTwoRows_IsASharedMacWarningNamingBothLines()
    {
        // Real console exports: a docking station's or USB adapter's MAC is recorded on every laptop that used it.
        var parsed = Parse(Template(Row("PC01", mac: "aa-bb-cc-dd-ee-ff"), Row("PC02", mac: "AABB.CCDD.EEFF;00:11:22:33:44:55")));

        Assert.Empty(parsed.Errors);
        var warning = Single(parsed.Warnings);
        Assert.Equal(3, warning.Line);
        Assert.Equal("mac_addresses", warning.Column);
        Assert.Contains("AA:BB:CC:DD:EE:FF", warning.Message, StringComparison.Ordinal);
        Assert.Contains("line 2 (PC01)", warning.Message, StringComparison.Ordinal);
        Assert.Contains("shared", warning.Message, StringComparison.Ordinal);
        Assert.Equal(["AA:BB:CC:DD:EE:FF", "00:11:22:33:44:55"], parsed.Rows[1].MacAddresses);
    }

    [Theory]
    [InlineData("To Be Filled By O.E.M.")]
    [InlineData("Default string")]
    [InlineData("System Serial Number")]
    [InlineData("0")]
    public void Validate_PlaceholderSerial_IsDroppedWithAWarning(string placeholder)
    {
        // White-box and virtual machines report these from firmware; hundreds of machines share each one.
        var parsed = Parse(Template(Row("PC01", serial: placeholder), Row("PC02", serial: placeholder)));

        Assert.Empty(parsed.Errors);
        Assert.Equal(2, parsed.Warnings.Count);
        Assert.All(parsed.Rows, r => Assert.Null(r.SerialNumber));
    }

    [Fact]
    public void Validate_ClearToken_MarksTheFieldAndEmptyCellsMarkNothing()
    {
        var parsed = Parse("hostname,site,department,owner,mac_addresses,model\nPC01,HQ,#clear,,#CLEAR,\n");

        Assert.Empty(parsed.Errors);
        var row = Assert.Single(parsed.Rows);
        Assert.Null(row.Department);
        Assert.Null(row.Owner);
        Assert.Equal(StagedMachine.Bit(ImportField.Department) | StagedMachine.Bit(ImportField.MacAddresses), row.Cleared);
    }

    [Theory]
    [InlineData("site")]
    [InlineData("role")]
    [InlineData("criticality")]
    public void Validate_ClearTokenOnARequiredField_IsAnError(string column)
    {
        var issue = Single(Parse($"hostname,{column}\nPC01,#clear\n").Errors);

        Assert.Equal((2, column), (issue.Line, issue.Column));
        Assert.Contains("cannot clear", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OversizedField_IsAnErrorWithTheLimit()
    {
        var issue = Single(Parse(Template(Row("PC01", department: new string('d', 65)))).Errors);

        Assert.Equal(new ImportIssue(2, "department", "value is 65 characters long; the limit is 64"), issue);
    }

    [Fact]
    public void Validate_UnknownExtraColumns_AreOneWarningNamingThem()
    {
        var parsed = Parse("hostname,site,Favourite Colour,Shoe Size\nPC01,HQ,blue,42\nPC02,HQ,red,43\n");

        Assert.Empty(parsed.Errors);
        var warning = Single(parsed.Warnings);
        Assert.Equal(1, warning.Line);
        Assert.Contains("\"Favourite Colour\"", warning.Message, StringComparison.Ordinal);
        Assert.Contains("\"Shoe Size\"", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ManyBadRows_ReportsEveryOneInOnePass()
    {
        var parsed = Parse(Template(Row(""), Row("PC02", role: "Toaster"), Row("PC03"), Row("PC04", ip: "x"), Row("PC 05")));

        Assert.Equal([2, 3, 5, 6], parsed.Errors.Select(e => e.Line));
    }

    [Fact]
    public void Validate_ServerWithBmcAndNoPath_DefaultsToServerViaBmc()
    {
        var parsed = Parse(Template(Row("SRV01", role: "Server", bmc: "https://bmc-srv01"), Row("SRV02", role: "Server"), Row("PC01", path: "DriveReplacement")));

        Assert.Equal(RecoveryPath.ServerViaBmc, parsed.Rows[0].DefaultPath);
        Assert.Equal(RecoveryPath.Reformat, parsed.Rows[1].DefaultPath);
        Assert.Equal(RecoveryPath.DriveReplacement, parsed.Rows[2].RecoveryPath);
    }
}
