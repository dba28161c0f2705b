using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Ui;

/// <summary>The fleet page in a real Chromium against the real server on loopback.</summary>
[Collection("Hangfire")]
public sealed class FleetPageTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("desktop", 1366, 900)]
    [InlineData("tablet", 768, 1024)]
    public async Task FleetPage_CountsFollowALaunchWithoutReload_AndTheGridFiltersOnTheServer(string device, int width, int height)
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var baseUrl = app.StartOnLoopback();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "UI", imagingSlots: 0); // no slots: launched machines stay Queued
        var machines = await TestFleet.AddMachinesAsync(db, site, 40);
        var planner = app.Services.GetRequiredService<WavePlanner>();
        var wave = await planner.CreateAsync("UI wave", 1, Ct);
        await planner.AddMachinesAsync(wave.Id, machines[..12], Actor.System("test"), Ct);
        await planner.ApproveAsync(wave.Id, Actor.System("test"), Ct);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(Browsers.Options);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = width, Height = height } });
        await Browsers.SignInAsync(page, baseUrl, "admin", ReimageApp.AdminPassword);
        await page.GotoAsync(baseUrl + "/");
        await page.WaitForSelectorAsync("section.fleet[data-interactive]"); // the circuit is live

        await Assertions.Expect(page.GetByTestId("count-Planned")).ToHaveTextAsync("12");
        await Assertions.Expect(page.GetByTestId("count-total")).ToHaveTextAsync("40");
        await planner.LaunchAsync(wave.Id, Actor.System("test"), Ct);
        await Assertions.Expect(page.GetByTestId("count-Queued")).ToHaveTextAsync("12");
        await Assertions.Expect(page.GetByTestId("count-Planned")).ToHaveTextAsync("0");

        await page.GetByTestId("filter-text").FillAsync("UI-PC0007");
        await Assertions.Expect(page.GetByTestId("machine-row")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("match-count")).ToHaveTextAsync("1 machines");
        await page.GetByTestId("filter-text").FillAsync("");
        await page.GetByTestId("filter-state").SelectOptionAsync("Queued");
        await Assertions.Expect(page.GetByTestId("match-count")).ToHaveTextAsync("12 machines");

        Directory.CreateDirectory(Browsers.ScreenshotDirectory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Browsers.ScreenshotDirectory, $"fleet-{device}.png"), FullPage = true });
    }
}

/// <summary>The waves page: a lead approves and launches a wave with the buttons, and sees it move.</summary>
[Collection("Hangfire")]
public sealed class WavesPageTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Lead_ApprovesThenLaunchesAWave_AndTheWaveShowsLaunchedWithItsApprover()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var baseUrl = app.StartOnLoopback();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "WUI", imagingSlots: 0);
        var planner = app.Services.GetRequiredService<WavePlanner>();
        var wave = await planner.CreateAsync("Identity and core", 1, ct);
        await planner.AddMachinesAsync(wave.Id, await TestFleet.AddMachinesAsync(db, site, 5), Actor.System("test"), ct);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(Browsers.Options);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1366, Height = 900 } });
        await Browsers.SignInAsync(page, baseUrl, "admin", ReimageApp.AdminPassword);
        await page.GotoAsync(baseUrl + "/waves");
        await page.WaitForSelectorAsync("section.waves[data-interactive]");

        await Assertions.Expect(page.GetByTestId("wave-launch")).ToHaveCountAsync(0); // a draft cannot be launched
        await page.GetByTestId("wave-approve").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wave-row")).ToContainTextAsync("Approved");
        await page.GetByTestId("wave-launch").ClickAsync();

        await Assertions.Expect(page.GetByTestId("wave-row")).ToContainTextAsync("Launched");
        await Assertions.Expect(page.GetByTestId("wave-row")).ToContainTextAsync("admin");
        await Assertions.Expect(page.GetByTestId("wave-row")).ToContainTextAsync("Queued 5");
        Directory.CreateDirectory(Browsers.ScreenshotDirectory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Browsers.ScreenshotDirectory, "waves-desktop.png") });
    }
}

/// <summary>Debian's Chromium, driven by Playwright (no browser download).</summary>
public static class Browsers
{
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    /// <summary>Signs in through the real sign-in page (a plain form post, no circuit needed).</summary>
    public static async Task SignInAsync(IPage page, string baseUrl, string user, string password)
    {
        await page.GotoAsync(baseUrl + "/account/login");
        await page.GetByTestId("login-user").FillAsync(user);
        await page.GetByTestId("login-password").FillAsync(password);
        await page.GetByTestId("login-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("signed-in-as")).ToHaveTextAsync(user);
    }

    public static BrowserTypeLaunchOptions Options { get; } = new()
    {
        ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium",
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    };
}
