using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Import;

[Collection("Hangfire")]
public sealed class ImportApiTests(PostgresFixture postgres)
{
    private const string Header = "hostname,serial_number,mac_addresses,site,role,criticality";

    [Fact]
    public async Task Post_ValidFile_Imports200WithCounts_AndReimportUpdates()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var file = $"{Header}\nWS-001,SN001,aa-bb-cc-00-00-01,HQ,Workstation,3\nWS-002,SN002,aabb.cc00.0002,HQ,Laptop,4\n";

        var (status, body) = await app.SendAsync("POST", "/api/import?createSites=true", IPAddress.Loopback, body: file);
        var (again, againBody) = await app.SendAsync("POST", "/api/import?createSites=true", IPAddress.Loopback, body: file.Replace("Laptop,4", "Laptop,2", StringComparison.Ordinal));

        Assert.Equal(200, status);
        using var report = JsonDocument.Parse(body);
        Assert.True(report.RootElement.GetProperty("imported").GetBoolean());
        Assert.Equal(2, report.RootElement.GetProperty("inserted").GetInt32());
        Assert.Equal(200, again);
        using var second = JsonDocument.Parse(againBody);
        Assert.Equal((0, 1), (second.RootElement.GetProperty("inserted").GetInt32(), second.RootElement.GetProperty("updated").GetInt32()));
        Assert.Equal(2L, await CountAsync(app, "reimage.machines"));
    }

    [Fact]
    public async Task Post_AFileOverTheConfiguredLimit_Is413NamingTheLimit_AndWritesNothing()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync(), settings: new Dictionary<string, string> { ["Reimage:Import:MaxFileMegabytes"] = "1" });
        var big = Header + "\n" + string.Concat(Enumerable.Range(0, 30_000).Select(i => $"WS-{i:D6},SN{i:D6},,HQ,Workstation,3\n")); // about 1.1 MB

        var (status, body) = await app.SendAsync("POST", "/api/import?createSites=true", IPAddress.Loopback, c => c.Request.ContentLength = System.Text.Encoding.UTF8.GetByteCount(big), big);

        Assert.Equal(413, status);
        Assert.Contains("larger than 1 MB", body, StringComparison.Ordinal);
        Assert.Equal(0L, await CountAsync(app, "reimage.machines"));
    }

    [Fact]
    public async Task Post_FileWithBadRows_Is422ListingEveryBadLine_AndWritesNothing()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var file = $"{Header}\nWS-001,SN001,aa-bb-cc-00-00-01,HQ,Workstation,3\nWS 002,SN002,zz-bb-cc-00-00-02,HQ,Toaster,9\nWS-003,SN001,aa-bb-cc-00-00-03,HQ,Workstation,3\n";

        var (status, body) = await app.SendAsync("POST", "/api/import?createSites=true", IPAddress.Loopback, body: file);

        Assert.Equal(422, status);
        using var report = JsonDocument.Parse(body);
        Assert.False(report.RootElement.GetProperty("imported").GetBoolean());
        var lines = report.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("line").GetInt32()).Distinct().Order().ToList();
        Assert.Equal([3, 4], lines);
        Assert.Equal(0L, await CountAsync(app, "reimage.machines"));
        Assert.Equal(0L, await CountAsync(app, "reimage.sites"));
    }

    [Fact]
    public async Task Post_EmptyBody_Is400()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());

        var (status, _) = await app.SendAsync("POST", "/api/import", IPAddress.Loopback, body: "");

        Assert.Equal(400, status);
    }

    private static async Task<long> CountAsync(ReimageApp app, string table)
    {
        await using var command = app.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand($"SELECT count(*) FROM {table}");
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
