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

    [Fact]
    public async Task Import_SerialOwnedByAnotherMachine_IsAnErrorNamingIt()
    {
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("OWNER01", serial: "S-OWNED")));

        var report = await ImportAsync(db, Template(Row("PC01"), Row("NEWCOMER", serial: "s-owned")));

        var error = Single(report.Errors);
        Assert.Equal((3, "serial_number"), (error.Line, error.Column));
        Assert.Contains("OWNER01", error.Message, StringComparison.Ordinal);
        Assert.Equal(1L, await ScalarAsync<long>(db, "SELECT count(*) FROM reimage.machines"));
    }

    [Fact]
    public async Task Import_MacOwnedByAnotherMachine_IsASharedMacWarningAndTheRowIsImported()
    {
        // A USB network adapter lent from laptop to laptop: the console records it on each of them.
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("OWNER01", mac: "00:11:22:33:44:55")));

        var report = await ImportAsync(db, Template(Row("NEWCOMER", mac: "0011.2233.4455;00:11:22:33:44:66")));

        Assert.True(report.Imported, report.ToText());
        var warning = Single(report.Warnings);
        Assert.Equal((2, "mac_addresses"), (warning.Line, warning.Column));
        Assert.Contains("00:11:22:33:44:55 is also on OWNER01", warning.Message, StringComparison.Ordinal);
        Assert.Equal("NEWCOMER:00:11:22:33:44:55 00:11:22:33:44:66,OWNER01:00:11:22:33:44:55", await ScalarAsync<string>(db,
            "SELECT string_agg(hostname || ':' || array_to_string(mac_addresses, ' '), ',' ORDER BY hostname) FROM reimage.machines"));
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

        var report = await ImportAsync(db, Template(Row("PC01", department: "IT"), Row("PC02", site: "NEW")), new ImportOptions(DryRun: true, CreateSites: true));

        Assert.False(report.Imported);
        Assert.Empty(report.Errors);
        Assert.Equal((1, 1), (report.Inserted, report.Updated));
        Assert.Equal(["NEW"], report.SitesCreated);
        Assert.Equal(before, await CountsAsync(db));
        Assert.Equal(new Dictionary<string, int> { ["department"] = 1 }, report.FieldsChanged);
        Assert.Equal(["2 PC01 update department", "3 PC02 insert "], report.Changes.Select(c => $"{c.Line} {c.Hostname} {c.Action} {string.Join("+", c.Fields)}"));
        Assert.Contains("2,PC01,update,\"department\"", report.ChangesCsv(), StringComparison.Ordinal);
        var progress = new List<string>();
        var written = await new FleetImporter(db, _clock).ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(Template(Row("PC01", department: "IT")))),
            new ImportOptions(), Lead, Ct, new SynchronousProgress(p => progress.Add(p.Phase)));
        Assert.Equal(new Dictionary<string, int> { ["department"] = 1 }, written.FieldsChanged);
        Assert.Equal(["reading the file", "checking rows", "checking against the fleet", "writing"], progress);
    }

    /// <summary>Reports on the caller's thread, in order (<see cref="Progress{T}"/> posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<ImportProgress> report) : IProgress<ImportProgress>
    {
        public void Report(ImportProgress value) => report(value);
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

            Assert.Equal(0, await ImportCommands.ImportFileAsync(services, good, new ImportOptions(CreateSites: true), output, Ct));
            Assert.Equal(1, await ImportCommands.ImportFileAsync(services, bad, new ImportOptions(CreateSites: true), output, Ct));
            Assert.Equal(2, await ImportCommands.ImportFileAsync(services, good + ".missing", new ImportOptions(CreateSites: true), output, Ct));
            Assert.Contains("Import done: the fleet is updated", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(good);
            File.Delete(bad);
        }
    }

    [Fact]
    public async Task Import_MacOnSeveralMachines_IsMarkedSharedOnEach_AndUnmarkedWhenItIsOnOneAgain()
    {
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("LT01", mac: "00:E0:4C:68:00:01;8C:8C:AA:01:02:03"), Row("LT02", mac: "00:E0:4C:68:00:01"), Row("LT03", mac: "8C:8C:AA:01:02:05")));
        const string Shared = "SELECT string_agg(hostname || ':' || array_to_string(shared_mac_addresses, ' '), ',' ORDER BY hostname) FROM reimage.machines";

        Assert.Equal("LT01:00:E0:4C:68:00:01,LT02:00:E0:4C:68:00:01,LT03:", await ScalarAsync<string>(db, Shared));
        // Remote boot needs a MAC of its own: LT02 has only the dock's.
        Assert.Equal("LT01:true,LT02:false,LT03:true", await ScalarAsync<string>(db,
            $"SELECT string_agg(m.hostname || ':' || {Reimage.Orchestrator.Workflow.RecoveryPaths.CanBootRemotelySql}, ',' ORDER BY m.hostname) FROM reimage.machines m JOIN reimage.recoveries r ON r.machine_id = m.id"));

        await ImportAsync(db, "hostname,mac\nLT02,#clear\n");

        Assert.Equal("LT01:,LT02:,LT03:", await ScalarAsync<string>(db, Shared));
    }

    [Fact]
    public async Task Import_ActiveDirectoryThenConfigurationManagerThenExcel_EndsWithTheUnionOfWhatTheyKnow()
    {
        // Three real-shaped exports of one fleet, each knowing different columns: none may clear what another said.
        await using var db = await CreateAsync();

        var ad = await ImportFixtureAsync(db, "ad-computers.csv", new ImportOptions(DefaultSite: "RUH", CreateSites: true));
        var configMgr = await ImportFixtureAsync(db, "configmgr-devices.csv", new ImportOptions());
        var excel = await ImportFixtureAsync(db, "excel-locations.csv", new ImportOptions());

        Assert.True(ad.Imported && configMgr.Imported && excel.Imported, ad.ToText() + configMgr.ToText() + excel.ToText());
        Assert.Equal((5, 5, 5), (ad.Inserted, configMgr.Updated, excel.Updated));
        var machines = await RowsAsync(db,
            """
            SELECT m.hostname || '|' || m.role || '|' || m.criticality || '|' || coalesce(m.ip_address, '-') || '|' || coalesce(m.serial_number, '-') || '|'
                || array_to_string(m.mac_addresses, ' ') || '|' || coalesce(m.model, '-') || '|' || coalesce(m.owner, '-') || '|' || coalesce(m.asset_tag, '-')
                || '|' || coalesce(m.building || '/' || m.floor || '/' || m.room, '-') || '|' || s.code
            FROM reimage.machines m JOIN reimage.sites s ON s.id = m.site_id ORDER BY m.hostname
            """);
        Assert.Equal(
        [
            "RUH-APP01|Server|1|10.20.1.20|8YL3MN4|B0:7B:25:10:00:02|PowerEdge R750|Noura Al-Harbi|AT-100002|B1/0/Server room|RUH",
            "RUH-DC01|DomainController|0|10.20.0.10|7XK2LM3|B0:7B:25:10:00:01|PowerEdge R650|-|AT-100001|B1/0/Server room|RUH",
            "RUH-LT0001|Workstation|3|10.20.8.11|PF3ABCD1|8C:8C:AA:01:02:03 00:E0:4C:68:00:01|ThinkPad T14 Gen 4|Fahad Al-Otaibi|AT-200001|B2/3/3.14|RUH",
            "RUH-LT0002|Workstation|3|-|PF3ABCD2|8C:8C:AA:01:02:04 00:E0:4C:68:00:01|ThinkPad T14 Gen 4|Sara Müller|AT-200002|B2/3/3.16|RUH",
            "RUH-WS0003|Workstation|4|-|-||EliteDesk 800 G6|-|AT-200003|B2/1/1.02|RUH",
        ], machines);
        // The docking-station MAC both laptops report is a warning, not a rejection; the placeholder serial is dropped.
        Assert.Contains(configMgr.Warnings, w => w.Message.Contains("00:E0:4C:68:00:01", StringComparison.Ordinal) && w.Message.Contains("shared", StringComparison.Ordinal));
        Assert.Contains(configMgr.Warnings, w => w.Message.Contains("placeholder", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Import_LocationOnlyExport_IsPlacedBySiteRules_FirstMatchWins_AndADryRunShowsIt()
    {
        // An Active Directory export has no site column: Location is free text, the OU path and the subnet say where.
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("SEED-RUH", site: "RUH"), Row("SEED-JED", site: "JED"), Row("SEED-DMM", site: "DMM")));
        var rules = new SiteRules(TestFleet.Contexts(db), _clock);
        Assert.Equal(SiteRuleOutcome.Added, (await rules.AddAsync("Location", "Riyadh HQ*", "ruh", null, Lead, Ct)).Outcome);
        Assert.Equal(SiteRuleOutcome.Added, (await rules.AddAsync("OrganizationalUnit", "OU=Jeddah,DC=corp", "JED", null, Lead, Ct)).Outcome);
        Assert.Equal(SiteRuleOutcome.Added, (await rules.AddAsync("Subnet", "10.40.0.0/16", "DMM", null, Lead, Ct)).Outcome);
        Assert.Equal(SiteRuleOutcome.Added, (await rules.AddAsync("HostnamePrefix", "JED-", "JED", null, Lead, Ct)).Outcome);
        Assert.Equal(SiteRuleOutcome.Invalid, (await rules.AddAsync("Subnet", "10.40.0.1/16", "DMM", null, Lead, Ct)).Outcome);
        Assert.Equal(SiteRuleOutcome.NoSuchSite, (await rules.AddAsync("Location", "Mars", "MARS", null, Lead, Ct)).Outcome);
        const string Export =
            "\"DistinguishedName\",\"Name\",\"IPv4Address\",\"Location\"\n" +
            "\"CN=A1,OU=Riyadh,DC=corp\",\"A1\",\"10.20.0.5\",\"Riyadh HQ / B1\"\n" +
            "\"CN=B1,OU=Jeddah,DC=corp\",\"B1\",\"10.40.1.5\",\"\"\n" +
            "\"CN=C1,OU=Dammam,DC=corp\",\"C1\",\"10.40.2.5\",\"\"\n" +
            "\"CN=JED-X,OU=Lab,DC=corp\",\"JED-X\",\"\",\"\"\n" +
            "\"CN=NOWHERE1,OU=Lab,DC=corp\",\"NOWHERE1\",\"\",\"\"\n";

        var dryRun = await ImportAsync(db, Export, new ImportOptions(DryRun: true));
        var imported = await ImportAsync(db, Export, new ImportOptions(DefaultSite: "RUH"));

        var error = Single(dryRun.Errors);
        Assert.Equal(6, error.Line);
        Assert.Contains("needs a site", error.Message, StringComparison.Ordinal);
        Assert.True(imported.Imported, imported.ToText());
        Assert.Contains(imported.Warnings, w => w.Message.StartsWith("4 rows without a site were placed by the site rules", StringComparison.Ordinal));
        Assert.Equal("A1:RUH,B1:JED,C1:DMM,JED-X:JED,NOWHERE1:RUH", await ScalarAsync<string>(db,
            "SELECT string_agg(m.hostname || ':' || s.code, ',' ORDER BY m.hostname) FROM reimage.machines m JOIN reimage.sites s ON s.id = m.site_id WHERE m.hostname NOT LIKE 'SEED%'"));
    }

    [Fact]
    public async Task Import_TheSameFilesAgain_ChangesNothing()
    {
        await using var db = await CreateAsync();
        await ImportFixtureAsync(db, "ad-computers.csv", new ImportOptions(DefaultSite: "RUH", CreateSites: true));
        await ImportFixtureAsync(db, "configmgr-devices.csv", new ImportOptions());
        var before = await CountsAsync(db);

        var again = await ImportFixtureAsync(db, "ad-computers.csv", new ImportOptions(DefaultSite: "RUH"));
        var configMgr = await ImportFixtureAsync(db, "configmgr-devices.csv", new ImportOptions());

        Assert.Equal((0, 0, 5), (again.Inserted, again.Updated, again.Unchanged));
        Assert.Equal((0, 0, 5), (configMgr.Inserted, configMgr.Updated, configMgr.Unchanged));
        Assert.Equal(before, await CountsAsync(db));
    }

    [Fact]
    public async Task Import_RoleHintFromAnotherExport_RaisesButNeverLowersARole()
    {
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("DC01", role: "DomainController"), Row("PC01", role: "Workstation"), Row("LT01", role: "Laptop")));

        // An export without a role column but with operating systems: PC01 runs Windows Server (the record was wrong),
        // DC01 also runs Windows Server (it stays a domain controller), LT01 runs Windows 11 (it stays a laptop).
        await ImportAsync(db, "Name,Operating System\nDC01,Windows Server 2022\nPC01,Windows Server 2019\nLT01,Windows 11 Enterprise\n");

        Assert.Equal("DC01:DomainController,LT01:Laptop,PC01:Server", await ScalarAsync<string>(db,
            "SELECT string_agg(hostname || ':' || role, ',' ORDER BY hostname) FROM reimage.machines"));
    }

    [Fact]
    public async Task Import_ClearToken_EmptiesOnlyTheFieldsItIsIn_AndReplaceMacsReplaces()
    {
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("PC01", mac: "00:11:22:33:44:55", department: "Finance", owner: "Jane Doe")));

        await ImportAsync(db, "hostname,department,owner,bmc_address\nPC01,#clear,,\n");
        Assert.Equal("-/Jane Doe/00:11:22:33:44:55", await ScalarAsync<string>(db,
            "SELECT coalesce(department, '-') || '/' || owner || '/' || array_to_string(mac_addresses, ' ') FROM reimage.machines"));

        await ImportAsync(db, "hostname,mac\nPC01,00:11:22:33:44:66\n");
        Assert.Equal("00:11:22:33:44:55 00:11:22:33:44:66", await ScalarAsync<string>(db, "SELECT array_to_string(mac_addresses, ' ') FROM reimage.machines"));

        await ImportAsync(db, "hostname,mac\nPC01,00:11:22:33:44:77\n", new ImportOptions(ReplaceMacs: true));
        Assert.Equal("00:11:22:33:44:77", await ScalarAsync<string>(db, "SELECT array_to_string(mac_addresses, ' ') FROM reimage.machines"));

        await ImportAsync(db, "hostname,mac\nPC01,#clear\n");
        Assert.Equal(0, await ScalarAsync<int>(db, "SELECT cardinality(mac_addresses) FROM reimage.machines"));
    }

    [Fact]
    public async Task Import_UnknownSiteCode_IsAnErrorNamingTheKnownSites_UnlessTheImportMayCreateSites()
    {
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("PC01", site: "RUH")));
        var before = await CountsAsync(db);

        var misspelt = await ImportAsync(db, Template(Row("PC02", site: "RHU")), new ImportOptions());

        var error = Single(misspelt.Errors);
        Assert.Equal((2, "site"), (error.Line, error.Column));
        Assert.Contains("\"RHU\" does not exist (the sites are RUH)", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await CountsAsync(db));
        var created = await ImportAsync(db, Template(Row("PC02", site: "JED")), new ImportOptions(CreateSites: true));
        Assert.Equal(["JED"], created.SitesCreated);
    }

    [Fact]
    public async Task Import_DefaultSite_PlacesNewMachinesOnly_AndANewMachineWithoutOneIsAnError()
    {
        await using var db = await CreateAsync();
        await ImportAsync(db, Template(Row("PC01", site: "JED"), Row("PC00", site: "RUH")));

        var noSite = await ImportAsync(db, "hostname,department\nPC01,IT\nPC02,IT\n", new ImportOptions());
        var withDefault = await ImportAsync(db, "hostname,department\nPC01,IT\nPC02,IT\n", new ImportOptions(DefaultSite: "RUH"));

        var error = Single(noSite.Errors);
        Assert.Equal(3, error.Line);
        Assert.Contains("a new machine needs a site", error.Message, StringComparison.Ordinal);
        Assert.True(withDefault.Imported, withDefault.ToText());
        Assert.Equal("PC00:RUH,PC01:JED,PC02:RUH", await ScalarAsync<string>(db,
            "SELECT string_agg(m.hostname || ':' || s.code, ',' ORDER BY m.hostname) FROM reimage.machines m JOIN reimage.sites s ON s.id = m.site_id"));
    }

    [Fact]
    public async Task Import_Tier0_IsStoredAsZero_AndSortsFirst()
    {
        await using var db = await CreateAsync();

        var report = await ImportAsync(db, "hostname,site,criticality\nPC01,HQ,3\nDC01,HQ,Tier 0\nPKI01,HQ,T0\nAPP01,HQ,Tier 1\n");

        Assert.True(report.Imported, report.ToText());
        Assert.Equal("DC01,PKI01,APP01,PC01", await ScalarAsync<string>(db,
            "SELECT string_agg(hostname, ',' ORDER BY criticality, hostname) FROM reimage.machines"));
    }

    [Fact]
    public async Task Import_StructurallyBrokenFile_ReportsEveryProblemByLineAndWritesNothing()
    {
        // A hand-edited file: an extra field, a cut-short row, a NUL from a bad copy-paste in an ignored column, a
        // 200,000-character note, and an unclosed quote that would swallow every row after it.
        await using var db = await CreateAsync();
        var file = "hostname,site,notes\nPC01,HQ,ok\nPC02,HQ,ok,extra\nPC03,HQ\nPC04,HQ,bad\0paste\nPC05,HQ," + new string('x', 200_000) + "\nPC06,HQ,\"never closed\nPC07,HQ,ok\n";

        var report = await ImportAsync(db, file);

        Assert.False(report.Imported);
        Assert.Equal([3, 4, 5, 6, 7], report.Errors.Select(e => e.Line).Distinct());
        Assert.Contains(report.Errors, e => e.Line == 5 && e.Column == "notes" && e.Message.Contains("NUL", StringComparison.Ordinal));
        Assert.Contains(report.Errors, e => e.Line == 6 && e.Column == "notes" && e.Message.Contains("200,000", StringComparison.Ordinal));
        Assert.Contains(report.Errors, e => e.Line == 7 && e.Message.Contains("never closed", StringComparison.Ordinal));
        Assert.Equal("0/0/0/0", await CountsAsync(db));
    }

    private Task<ImportReport> ImportFixtureAsync(NpgsqlDataSource db, string name, ImportOptions options) =>
        new FleetImporter(db, _clock).ImportAsync(File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Import", "Fixtures", name)), options, Lead, Ct);

    private static async Task<List<string>> RowsAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<string>();
        while (await reader.ReadAsync(Ct))
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private async Task<NpgsqlDataSource> CreateAsync() => NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());

    private Task<ImportReport> ImportAsync(NpgsqlDataSource db, string csv, ImportOptions? options = null) =>
        new FleetImporter(db, _clock).ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), options ?? new ImportOptions(CreateSites: true), Lead, Ct);

    private static async Task<string> CountsAsync(NpgsqlDataSource db) => await ScalarAsync<string>(db,
        """
        SELECT (SELECT count(*) FROM reimage.machines) || '/' || (SELECT count(*) FROM reimage.recoveries) || '/' ||
               (SELECT count(*) FROM reimage.machine_events) || '/' || (SELECT count(*) FROM reimage.sites)
        """);
}
