using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Dashboard.Fleet;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Fleet;

public sealed class CsvFieldTests
{
    [Theory]
    [InlineData("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"")]
    [InlineData("+1", "'+1")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tcmd", "'\tcmd")]
    [InlineData("\r=1", "\"'\r=1\"")]
    [InlineData("PC-0001", "PC-0001")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Field_DefusesFormulaTriggers_AndQuotesWhatCsvNeeds(string? value, string expected) =>
        Assert.Equal(expected, FleetExport.Field(value));
}

[Collection("Hangfire")]
public sealed class FleetExportApiTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Export_OfASearch_StreamsOnlyMatchingMachines_WithAMaliciousHostNameDefused()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "CSV");
        var machines = await TestFleet.AddMachinesAsync(db, site, 5);
        await TestFleet.ExecuteAsync(db, $"UPDATE reimage.machines SET hostname = '=cmd|calc', owner = '@evil,corp' WHERE id = '{machines[2]}'");

        var all = await app.SendAsync("GET", "/api/machines/export", IPAddress.Loopback);
        var search = await app.SendAsync("GET", "/api/machines/export?text=CMD%7C", IPAddress.Loopback);
        var badState = await app.SendAsync("GET", "/api/machines/export?state=Exploded", IPAddress.Loopback);
        var badSite = await app.SendAsync("GET", "/api/machines/export?site=CSV", IPAddress.Loopback);

        Assert.Equal(200, all.Status);
        var lines = all.Body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        Assert.StartsWith("hostname,asset_tag,serial_number,mac_addresses,shared_mac_addresses,ip_address,site,", lines[0], StringComparison.Ordinal);
        Assert.Equal(200, search.Status);
        var found = Assert.Single(search.Body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1));
        Assert.StartsWith("'=cmd|calc,,CSV-PCSN000002,", found, StringComparison.Ordinal);
        Assert.Contains(",\"'@evil,corp\",Workstation,", found, StringComparison.Ordinal);
        Assert.DoesNotContain("\r\n=cmd", all.Body, StringComparison.Ordinal);
        Assert.Equal((400, 400), (badState.Status, badSite.Status));
    }

    [Fact]
    public async Task Export_ThenReimport_ChangesNothing_AndCarriesTheWholeInventoryWithABom()
    {
        // A lead's round trip: export the fleet, fix a few cells in Excel, import it back. Unchanged rows must stay
        // unchanged: before, the export lacked MACs, IPs, model and BMC, and re-importing it wiped them.
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        const string Fleet =
            "hostname,asset_tag,serial_number,mac_addresses,ip_address,site,building,floor,room,department,owner,role,criticality,model,disk_type,bmc_address,image_profile,recovery_path\n" +
            "RUH-DC01,AT-1,7XK2LM3,B0:7B:25:10:00:01,10.20.0.10,RUH,B1,0,Server room,IT,,DomainController,Tier 0,PowerEdge R650,SSD-960,https://10.20.250.10/redfish/v1/Systems/1,srv2022,ServerViaBmc\n" +
            "RUH-LT0001,AT-2,PF3ABCD1,\"8C:8C:AA:01:02:03;00:E0:4C:68:00:01\",10.20.8.11,RUH,B2,3,3.14,Finance,\"=HYPERLINK(\"\"http://x\"\")\",Laptop,3,ThinkPad T14,NVMe-512,,win11,DriveReplacement\n" +
            "RUH-LT0002,AT-3,PF3ABCD2,00:E0:4C:68:00:01,,RUH,B2,3,3.16,Legal,سارة القحطاني,Laptop,3,ThinkPad T14,NVMe-512,,win11,Reformat\n";
        var (imported, _) = await app.SendAsync("POST", "/api/import?createSites=true", IPAddress.Loopback, body: Fleet);
        var events = await TestFleet.ScalarAsync<long>(db, "SELECT count(*) FROM reimage.machine_events");

        var (status, bytes) = await app.SendForBytesAsync("GET", "/api/machines/export", IPAddress.Loopback);
        var (_, noBom) = await app.SendForBytesAsync("GET", "/api/machines/export?bom=false", IPAddress.Loopback);
        var export = System.Text.Encoding.UTF8.GetString(bytes);
        var (again, report) = await app.SendAsync("POST", "/api/import", IPAddress.Loopback, body: export);

        Assert.Equal((200, 200), (imported, status));
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        Assert.Equal((byte)'h', noBom[0]);
        Assert.Contains("RUH-DC01,AT-1,7XK2LM3,B0:7B:25:10:00:01,,10.20.0.10,RUH,B1,0,Server room,IT,,DomainController,0,PowerEdge R650,SSD-960,https://10.20.250.10/redfish/v1/Systems/1,srv2022,ServerViaBmc,", export, StringComparison.Ordinal);
        Assert.Contains("RUH-LT0002,AT-3,PF3ABCD2,00:E0:4C:68:00:01,00:E0:4C:68:00:01,,RUH,", export, StringComparison.Ordinal);
        Assert.Equal(200, again);
        using var json = System.Text.Json.JsonDocument.Parse(report);
        Assert.Equal((0, 0, 3), (json.RootElement.GetProperty("inserted").GetInt32(), json.RootElement.GetProperty("updated").GetInt32(), json.RootElement.GetProperty("unchanged").GetInt32()));
        Assert.DoesNotContain(json.RootElement.GetProperty("warnings").EnumerateArray(), w => w.GetProperty("message").GetString()!.Contains("ignored", StringComparison.Ordinal));
        Assert.Equal(events, await TestFleet.ScalarAsync<long>(db, "SELECT count(*) FROM reimage.machine_events"));
        Assert.Equal("=HYPERLINK(\"http://x\")", await TestFleet.ScalarAsync<string>(db, "SELECT owner FROM reimage.machines WHERE hostname = 'RUH-LT0001'"));
    }
}
