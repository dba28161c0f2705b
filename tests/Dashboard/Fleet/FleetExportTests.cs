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
        Assert.StartsWith("hostname,asset_tag,serial_number,site,", lines[0], StringComparison.Ordinal);
        Assert.Equal(200, search.Status);
        var found = Assert.Single(search.Body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1));
        Assert.StartsWith("'=cmd|calc,,CSV-PCSN000002,CSV,", found, StringComparison.Ordinal);
        Assert.Contains(",\"'@evil,corp\",Workstation,", found, StringComparison.Ordinal);
        Assert.DoesNotContain("\r\n=cmd", all.Body, StringComparison.Ordinal);
        Assert.Equal((400, 400), (badState.Status, badSite.Status));
    }
}
