using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using Reimage.Dashboard.Accounts;
using Reimage.Orchestrator.Scheduling;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;
using static Reimage.Tests.TestFleet;

namespace Reimage.Dashboard.Tests.Ui;

/// <summary>
/// Each audience's main journey in a real Chromium against the real server on loopback, with screenshots at tablet
/// (810×1080) and desktop (1440×900) sizes kept as test artifacts.
/// </summary>
[Collection("Hangfire")]
public sealed class JourneyTests(PostgresFixture postgres)
{
    private const string Password = "journey-password-2026";
    private static readonly (string Name, int Width, int Height)[] Sizes = [("tablet", 810, 1080), ("desktop", 1440, 900)];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Technician_ScansAnAssetTag_AndChecksOffADriveReplacementWithEvidence_OnceEvenWhenTheFormIsSentTwice()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var app = new ReimageApp(connectionString);
        var baseUrl = app.StartOnLoopback();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await AddSiteAsync(db, "TEC", imagingSlots: 5, handsOnPerTechnician: 3);
        var other = await AddSiteAsync(db, "FAR");
        var machines = await AddMachinesAsync(db, site, 3, path: RecoveryPath.DriveReplacement, diskType: "NVMe-512", building: "B1", floor: "2");
        await AddMachinesAsync(db, other, 1);
        await ExecuteAsync(db, "UPDATE reimage.machines SET asset_tag = 'AT-' || hostname");
        var dana = await AddTechnicianAsync(db, site, "Dana Reyes", building: "B1");
        await StockAsync(db, site, "NVMe-512", 3);
        await app.AddUserAsync("dana", Roles.Technician, ["TEC"], Password, dana.Id);
        await app.Services.GetRequiredService<Reimage.Dashboard.Sites.Handover>().AddAsync("TEC", "night lead", "Evidence locker A is full: use locker B.", Ct);
        await LaunchWaveAsync(db, "Replacement", machines);
        await app.Services.GetRequiredService<Dispatcher>().DispatchAsync(Ct);
        Assert.Equal(3, await CountAsync(db, $"SELECT count(*) FROM reimage.recoveries WHERE technician_id = '{dana.Id}' AND step = 'RemoveDrive'"));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(Browsers.Options);
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 810, Height = 1080 }, HasTouch = true });
        var page = await context.NewPageAsync();
        await Browsers.SignInAsync(page, baseUrl, "dana", Password);

        // Signed in, a technician lands on their own queue, in walking order.
        await Assertions.Expect(page).ToHaveURLAsync(baseUrl + "/tech");
        await Assertions.Expect(page.GetByTestId("queue-item")).ToHaveCountAsync(3);
        await Assertions.Expect(page.GetByTestId("queue-item").First).ToContainTextAsync("TEC-PC0000");
        await Assertions.Expect(page.GetByTestId("tech-handover")).ToContainTextAsync("use locker B");
        await ShotsAsync(page, "technician-queue");

        // Another site's tag is not found; a keyboard-wedge scanner types the tag (any case) and presses Enter.
        await page.GetByTestId("scan-tag").FillAsync("AT-FAR-PC0000");
        await page.GetByTestId("scan-tag").PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("scan-not-found")).ToBeVisibleAsync();
        await page.GetByTestId("scan-tag").FillAsync("at-tec-pc0001");
        await page.GetByTestId("scan-tag").PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("machine-host")).ToHaveTextAsync("TEC-PC0001");
        await Assertions.Expect(page.GetByTestId("checkoff-form")).ToContainTextAsync("Remove drive");

        // The drive comes out as evidence. The scanner reads the drive's serial barcode: it types into whatever has the
        // focus and presses Enter. Before, the scan box had it, and the scan navigated away from the check-off.
        await page.Keyboard.TypeAsync("WD-7731-XK");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("field-RemovedDriveSerial")).ToHaveValueAsync("WD-7731-XK");
        await Assertions.Expect(page.GetByTestId("field-RemovedDriveModel")).ToBeFocusedAsync(); // Enter moved on, nothing was submitted
        await Assertions.Expect(page.GetByTestId("machine-host")).ToHaveTextAsync("TEC-PC0001");
        await page.GetByTestId("field-EvidenceBagId").FillAsync("EB-2044");
        await page.GetByTestId("field-SealId").FillAsync("SEAL-99812");
        await page.GetByTestId("field-CaseNumber").FillAsync("IR-2026-117");
        var resend = await page.EvaluateAsync<Dictionary<string, string>>(
            "() => Object.fromEntries(new FormData(document.querySelector('[data-testid=checkoff-form]')))");
        await ShotsAsync(page, "technician-remove-drive");
        await page.GetByTestId("checkoff-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("checked-off")).ToContainTextAsync("Remove drive checked off. Next: Install drive.");

        // The same form sent again (a double tap, or a resend after the Wi-Fi dropped): the same answer, nothing new.
        var again = await page.APIRequest.PostAsync($"{baseUrl}/tech/machines/{machines[1]}", new()
        {
            Form = resend.Aggregate(context.APIRequest.CreateFormData(), (f, p) => f.Set(p.Key, p.Value)),
            MaxRedirects = 0,
        });
        Assert.Equal(302, again.Status);
        Assert.EndsWith($"/tech/machines/{machines[1]}?done=RemoveDrive", again.Headers["location"], StringComparison.Ordinal);
        Assert.Equal(1, await CountAsync(db, $"SELECT count(*) FROM reimage.evidence_items WHERE machine_id = '{machines[1]}'"));
        Assert.Equal(1, await CountAsync(db, $"SELECT count(*) FROM reimage.machine_events WHERE machine_id = '{machines[1]}' AND step = 'InstallDrive' AND to_state = 'InProgress'"));

        // The new drive goes in; imaging then runs without hands.
        await page.GetByTestId("field-NewDriveSerial").FillAsync("SPARE-5521");
        await page.GetByTestId("checkoff-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("checked-off")).ToContainTextAsync("Install drive checked off.");
        await Assertions.Expect(page.GetByTestId("nothing-to-do")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("evidence")).ToContainTextAsync("bag EB-2044 · seal SEAL-99812");
        await ShotsAsync(page, "technician-checked-off");

        Assert.Equal("InProgress:NetworkBoot", await TextAsync(db, $"SELECT state || ':' || step FROM reimage.recoveries WHERE machine_id = '{machines[1]}'"));
        Assert.Equal("WD-7731-XK|EB-2044|SEAL-99812|IR-2026-117|Dana Reyes (dana)", await TextAsync(db,
            $"SELECT drive_serial || '|' || evidence_bag_id || '|' || seal_id || '|' || case_number || '|' || collected_by FROM reimage.evidence_items WHERE machine_id = '{machines[1]}'"));
        Assert.Equal("2 on hand, 2 reserved", await TextAsync(db, "SELECT on_hand || ' on hand, ' || reserved || ' reserved' FROM reimage.spare_stock")); // one of three fitted

        // Back on the queue, two left; their labels print with QR codes.
        await page.GotoAsync(baseUrl + "/tech");
        await Assertions.Expect(page.GetByTestId("queue-item")).ToHaveCountAsync(2);
        await page.GotoAsync(baseUrl + "/labels?site=TEC");
        await Assertions.Expect(page.GetByTestId("label")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("[data-testid=label] svg")).ToHaveCountAsync(3);
        await page.GotoAsync(baseUrl + "/labels?site=FAR");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not one of your sites");
    }

    [Fact]
    public async Task Technician_ReportsAProblem_AndTheMachineGoesToTheLeadsFailureQueueWithTheReport()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var baseUrl = app.StartOnLoopback();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await AddSiteAsync(db, "PRB", imagingSlots: 5);
        var machine = (await AddMachinesAsync(db, site, 1, path: RecoveryPath.DriveReplacement, diskType: "SATA-256"))[0];
        var sam = await AddTechnicianAsync(db, site, "Sam Ortiz");
        await StockAsync(db, site, "SATA-256", 1);
        await app.AddUserAsync("sam", Roles.Technician, ["PRB"], Password, sam.Id);
        await LaunchWaveAsync(db, "Problems", [machine]);
        await app.Services.GetRequiredService<Dispatcher>().DispatchAsync(Ct);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(Browsers.Options);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1080, Height = 810 } }); // landscape
        await Browsers.SignInAsync(page, baseUrl, "sam", Password);
        await page.GetByTestId("queue-item").ClickAsync();
        await page.GetByTestId("problem-open").ClickAsync();
        await page.GetByLabel("Machine not at this location").CheckAsync();
        await page.GetByTestId("problem-note").FillAsync("desk empty, asked facilities");
        await page.GetByTestId("problem-submit").ClickAsync();

        await Assertions.Expect(page.GetByTestId("problem-reported")).ToBeVisibleAsync();
        Assert.Equal("Failed|RemoveDrive|Machine not at this location: desk empty, asked facilities (reported by Sam Ortiz (sam) at RemoveDrive)",
            await TextAsync(db, $"SELECT state || '|' || step || '|' || failure_reason FROM reimage.recoveries WHERE machine_id = '{machine}'"));
        var retried = await app.Services.GetRequiredService<LeadActions>().ApplyAsync(LeadAction.Retry, [machine], null, Actor.System("lead"), Ct);
        Assert.True(retried.Single().Done); // a lead's retry sends it back to a technician's hands
    }

    [Fact]
    public async Task Executive_SeesProgressMove_WhenMachinesAreRestoredThroughAnotherNode_WithinTwoSeconds()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var app = new ReimageApp(connectionString);
        var baseUrl = app.StartOnLoopback();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var north = await AddSiteAsync(db, "NTH", imagingSlots: 0);
        var south = await AddSiteAsync(db, "STH", imagingSlots: 0);
        var machines = (await AddMachinesAsync(db, north, 6)).Concat(await AddMachinesAsync(db, south, 4)).ToArray();
        await ExecuteAsync(db, "UPDATE reimage.machines SET department = CASE WHEN hostname LIKE '%0' THEN 'Finance' ELSE 'Operations' END");
        await LaunchWaveAsync(db, "Core services", machines);
        await app.AddUserAsync("exec", Roles.Executive, [], Password);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(Browsers.Options);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1440, Height = 900 } });
        await Browsers.SignInAsync(page, baseUrl, "exec", Password);
        await page.GotoAsync(baseUrl + "/progress");
        await page.WaitForSelectorAsync("section.executive[data-interactive]");
        await Assertions.Expect(page.GetByTestId("restored-percent")).ToHaveTextAsync("0.0 %");
        await Assertions.Expect(page.GetByTestId("expected-completion")).ToContainTextAsync("nothing restored");

        // Another node (its own process state, the same database) restores four north machines through the engine's writer.
        await using (var otherNode = NpgsqlDataSource.Create(connectionString))
        {
            await using var connection = await otherNode.OpenConnectionAsync(Ct);
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            var versions = await ColumnAsync<long>(otherNode, $"SELECT version FROM reimage.recoveries WHERE machine_id IN ('{string.Join("','", machines[..4])}') ORDER BY machine_id");
            var ordered = machines[..4].Order().ToArray();
            var wave = await ScalarAsync<Guid>(otherNode, "SELECT id FROM reimage.waves");
            var writer = new TransitionWriter(TimeProvider.System);
            await writer.WriteAsync(connection, transaction,
                ordered.Select((m, i) => new Transition(m, versions[i], RecoveryPath.Reformat, RecoveryState.Queued, RecoveryState.InProgress, Step.Verify, 1, wave)).ToList(),
                Actor.System("node-b"), Ct);
            await writer.WriteAsync(connection, transaction,
                ordered.Select((m, i) => new Transition(m, versions[i] + 1, RecoveryPath.Reformat, RecoveryState.InProgress, RecoveryState.Restored, null, 1, wave, Detail: "verified (test)")).ToList(),
                Actor.System("node-b"), Ct);
            await transaction.CommitAsync(Ct);
        }

        await Assertions.Expect(page.GetByTestId("restored-percent")).ToHaveTextAsync("40.0 %", new() { Timeout = 2000 });
        await Assertions.Expect(page.GetByTestId("restored-count")).ToHaveTextAsync("4 of 10 machines");
        await Assertions.Expect(page.GetByTestId("by-site")).ToContainTextAsync("NTH");
        await Assertions.Expect(page.GetByTestId("by-site").GetByLabel("NTH: 67 % restored")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("by-department")).ToContainTextAsync("Finance");
        await Assertions.Expect(page.GetByTestId("by-wave")).ToContainTextAsync("Core services");
        await Assertions.Expect(page.GetByTestId("expected-completion")).ToContainTextAsync("extrapolated from throughput");
        await Assertions.Expect(page.Locator("#burn-down .main-svg").First).ToBeVisibleAsync(new() { Timeout = 15000 }); // plotly drew it
        await Assertions.Expect(page.Locator("#throughput .main-svg").First).ToBeVisibleAsync(new() { Timeout = 15000 });

        // A machine failing shows up as a blocker, also without a reload.
        await ExecuteAsync(db, $"UPDATE reimage.recoveries SET state = 'Failed', step = 'Imaging', failure_reason = 'test', version = version + 1 WHERE machine_id = '{machines[9]}'");
        await Assertions.Expect(page.GetByTestId("blocker-failed")).ToHaveTextAsync("1 failed", new() { Timeout = 2000 });
        await ShotsAsync(page, "executive-progress");
    }

    [Fact]
    public async Task DarkMode_FollowsTheSystem_AndTheTopBarSwitchOverridesItOnThisDevice()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var baseUrl = app.StartOnLoopback();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(Browsers.Options);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1440, Height = 900 }, ColorScheme = ColorScheme.Dark });
        await Browsers.SignInAsync(page, baseUrl, "admin", ReimageApp.AdminPassword);
        await page.GotoAsync(baseUrl + "/handover");
        const string background = "() => getComputedStyle(document.body).backgroundColor";

        Assert.Equal("rgb(16, 22, 29)", await page.EvaluateAsync<string>(background)); // the system says dark
        await ShotsAsync(page, "handover-dark");
        await page.Locator("[data-theme-toggle]").ClickAsync();
        Assert.Equal("rgb(246, 247, 249)", await page.EvaluateAsync<string>(background));
        await page.ReloadAsync();
        Assert.Equal("rgb(246, 247, 249)", await page.EvaluateAsync<string>(background)); // remembered
    }


    /// <summary>The page at both sizes (the viewport is put back afterwards).</summary>
    private static async Task ShotsAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Browsers.ScreenshotDirectory);
        var before = page.ViewportSize!;
        foreach (var (size, width, height) in Sizes)
        {
            await page.SetViewportSizeAsync(width, height);
            await page.ScreenshotAsync(new() { Path = Path.Combine(Browsers.ScreenshotDirectory, $"{name}-{size}.png"), FullPage = true });
        }

        await page.SetViewportSizeAsync(before.Width, before.Height);
    }
}
