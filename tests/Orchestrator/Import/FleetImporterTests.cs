using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;
using static Reimage.Orchestrator.Tests.Import.CsvFiles;
using static Reimage.Tests.TestFleet;

namespace Reimage.Orchestrator.Tests.Import;

/// <summary>The import against a real PostgreSQL: each test owns a fresh migrated database.</summary>
public sealed class FleetImporterTests(PostgresFixture postgres)
{
    private static readonly Actor Lead = new("lead.jane", "test");
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Import_NewFile_InsertsMachinesRecoveriesEventsAndSites()
    {
        await using var db = await CreateAsync();

        var report = await ImportAsync(db, Template(
            Row("PC01", mac: "aa-bb-cc-00-00-01"), Row("SRV01", role: "Server", bmc: "https://bmc-srv01", site: "DC-EAST"), Row("PC02", path: "DriveReplacement")));

        Assert.True(report.Imported, report.ToText());
        Assert.Equal((3, 0), (report.Inserted, report.Updated));
        Assert.Equal(["HQ", "DC-EAST"], report.SitesCreated);
        Assert.Equal(3L, await ScalarAsync<long>(db, "SELECT count(*) FROM reimage.machines"));
        Assert.Equal("AA:BB:CC:00:00:01", await ScalarAsync<string>(db, "SELECT mac_addresses[1] FROM reimage.machines WHERE hostname = 'PC01'"));
        Assert.Equal("NotPlanned/Reformat/0/0", await ScalarAsync<string>(db,
            "SELECT state || '/' || path || '/' || attempt || '/' || version FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id WHERE hostname = 'PC01'"));
        Assert.Equal("ServerViaBmc", await ScalarAsync<string>(db, "SELECT path FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id WHERE hostname = 'SRV01'"));
        Assert.Equal("DriveReplacement", await ScalarAsync<string>(db, "SELECT path FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id WHERE hostname = 'PC02'"));
        Assert.Equal(3L, await ScalarAsync<long>(db,
            "SELECT count(*) FROM reimage.machine_events WHERE kind = 'imported' AND actor = 'lead.jane' AND origin = 'test' AND time_zone = 'UTC' AND occurred_at = '2026-11-27T08:00:00Z'"));
        Assert.Equal("HQ/HQ/UTC/25", await ScalarAsync<string>(db, "SELECT code || '/' || name || '/' || time_zone || '/' || imaging_slots FROM reimage.sites WHERE code = 'HQ'"));
    }

    [Fact]
    public async Task Import_WhenAnyRowIsInvalid_WritesNothing()
    {
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("EXISTING01")));
        var before = await CountsAsync(db);
        var rows = Enumerable.Range(1, 200).Select(i => Row($"PC{i:D4}", site: $"NEW{i % 3}")).ToList();
        rows.Insert(150, Row("PC9999", role: "Toaster"));

        var report = await ImportAsync(db, Template([.. rows]));

        Assert.False(report.Imported);
        Assert.Equal(152, Single(report.Errors).Line);
        Assert.Equal(before, await CountsAsync(db));
    }

    [Fact]
    public async Task Import_Again_UpdatesChangedMachinesAndNeverTheirRecoveryState()
    {
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("PC01"), Row("PC02"), Row("PC03")));
        await ExecuteAsync(db, "UPDATE reimage.recoveries SET state = 'InProgress', step = 'Imaging', attempt = 1, version = 7 FROM reimage.machines m WHERE m.id = machine_id AND m.hostname = 'PC02'");
        _clock.Advance(TimeSpan.FromHours(1));

        var report = await ImportAsync(db, Template(Row("pc01", department: "Legal"), Row("PC02", department: "Legal", path: "DriveReplacement"), Row("PC03")));

        Assert.True(report.Imported, report.ToText());
        Assert.Equal((0, 2, 1), (report.Inserted, report.Updated, report.Unchanged));
        Assert.Equal(3L, await ScalarAsync<long>(db, "SELECT count(*) FROM reimage.machines"));
        Assert.Equal("pc01/Legal", await ScalarAsync<string>(db, "SELECT hostname || '/' || department FROM reimage.machines WHERE hostname_key = 'pc01'"));
        Assert.Equal(2L, await ScalarAsync<long>(db, "SELECT count(*) FROM reimage.machines WHERE updated_at = '2026-11-27T09:00:00Z'"));
        // State, step, attempt and path untouched; the version moves by one because an 'updated' event joined the machine's chain.
        Assert.Equal("InProgress/Imaging/1/8/Reformat", await ScalarAsync<string>(db,
            "SELECT state || '/' || step || '/' || attempt || '/' || version || '/' || path FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id WHERE hostname = 'PC02'"));
        Assert.Equal(2L, await ScalarAsync<long>(db, "SELECT count(*) FROM reimage.machine_events WHERE kind = 'updated' AND detail LIKE '%department%'"));
    }

    [Fact]
    public async Task Import_Again_ChangesRecoveryPathOnlyWhileNotQueued()
    {
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("PC01"), Row("PC02")));
        await ExecuteAsync(db, "UPDATE reimage.recoveries SET state = 'Queued' FROM reimage.machines m WHERE m.id = machine_id AND m.hostname = 'PC02'");

        await ImportAsync(db, Template(Row("PC01", path: "DriveReplacement"), Row("PC02", path: "DriveReplacement")));

        Assert.Equal("PC01:DriveReplacement,PC02:Reformat", await ScalarAsync<string>(db,
            "SELECT string_agg(hostname || ':' || path, ',' ORDER BY hostname) FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id"));
    }

    [Theory]
    [InlineData("SERIAL", "serial_number")]
    [InlineData("MAC", "mac_addresses")]
    public async Task Import_SerialOrMacOwnedByAnotherMachine_IsAnErrorNamingIt(string kind, string column)
    {
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("OWNER01", serial: "S-OWNED", mac: "00:11:22:33:44:55")));

        var report = await ImportAsync(db, Template(
            Row("PC01"), kind == "SERIAL" ? Row("NEWCOMER", serial: "s-owned") : Row("NEWCOMER", mac: "0011.2233.4455")));

        var error = Single(report.Errors);
        Assert.Equal(3, error.Line);
        Assert.Equal(column, error.Column);
        Assert.Contains("OWNER01", error.Message, StringComparison.Ordinal);
        Assert.Equal(1L, await ScalarAsync<long>(db, "SELECT count(*) FROM reimage.machines"));
    }

    [Fact]
    public async Task Import_SameMachineKeepsItsOwnSerialAndMac_IsNoConflict()
    {
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("PC01", serial: "S1", mac: "00:11:22:33:44:55")));

        var report = await ImportAsync(db, Template(Row("PC01", serial: "S1", mac: "001122334455", department: "IT")));

        Assert.True(report.Imported, report.ToText());
        Assert.Equal(1, report.Updated);
    }

    [Fact]
    public async Task Import_SiteCodeInAnotherCase_UsesTheExistingSite()
    {
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("PC01", site: "Ruh-HQ")));

        var report = await ImportAsync(db, Template(Row("PC02", site: "RUH-HQ"), Row("PC03", site: "ruh-hq"), Row("PC04", site: "JED")));

        Assert.Equal(["JED"], report.SitesCreated);
        Assert.Equal(2L, await ScalarAsync<long>(db, "SELECT count(*) FROM reimage.sites"));
        Assert.Equal(3L, await ScalarAsync<long>(db, "SELECT count(*) FROM reimage.machines m JOIN reimage.sites s ON s.id = m.site_id WHERE s.code = 'Ruh-HQ'"));
    }

    [Fact]
    public async Task Import_DryRun_WritesNothingAndSaysWhatItWouldDo()
    {
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("PC01")));
        var before = await CountsAsync(db);

        var report = await ImportAsync(db, Template(Row("PC01", department: "IT"), Row("PC02", site: "NEW")), new ImportOptions(DryRun: true));

        Assert.False(report.Imported);
        Assert.Empty(report.Errors);
        Assert.Equal((1, 1), (report.Inserted, report.Updated));
        Assert.Equal(["NEW"], report.SitesCreated);
        Assert.Equal(before, await CountsAsync(db));
    }

    [Fact]
    public async Task Import_Report_RendersOneLinePerIssue()
    {
        await using var db = await CreateAsync();

        var report = await ImportAsync(db, "Name,Site,MAC Addresses\nPC01,HQ,zz\nABCDEFGHIJKLMNOPQ,HQ,\n");

        var text = report.ToText();
        Assert.Contains("line 2, column \"MAC Addresses\": \"zz\" is not a MAC address", text, StringComparison.Ordinal);
        Assert.Contains("line 3, column \"Name\":", text, StringComparison.Ordinal);
        Assert.Contains("rejected", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportFile_Command_ReturnsZeroOneOrTwo()
    {
        await using var db = await CreateAsync();
        var services = new ServiceCollection()
            .AddSingleton(db).AddSingleton<TimeProvider>(_clock).BuildServiceProvider();
        var good = Path.GetTempFileName();
        var bad = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(good, Template(Row("PC01")), Ct);
            await File.WriteAllTextAsync(bad, Template(Row("PC 02")), Ct);
            var output = new StringWriter();

            Assert.Equal(0, await ImportCommands.ImportFileAsync(services, good, null, output, Ct));
            Assert.Equal(1, await ImportCommands.ImportFileAsync(services, bad, null, output, Ct));
            Assert.Equal(2, await ImportCommands.ImportFileAsync(services, good + ".missing", null, output, Ct));
            Assert.Contains("Import done: the fleet is updated", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(good);
            File.Delete(bad);
        }
    }

    private async Task<NpgsqlDataSource> CreateAsync() => NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());

    private Task<ImportReport> ImportAsync(NpgsqlDataSource db, string csv, ImportOptions? options = null) =>
        new FleetImporter(db, _clock).ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), options ?? new ImportOptions(), Lead, Ct);

    private static async Task<string> CountsAsync(NpgsqlDataSource db) => await ScalarAsync<string>(db,
        """
        SELECT (SELECT count(*) FROM reimage.machines) || '/' || (SELECT count(*) FROM reimage.recoveries) || '/' ||
               (SELECT count(*) FROM reimage.machine_events) || '/' || (SELECT count(*) FROM reimage.sites)
        """);
}
