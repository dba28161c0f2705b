using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Ui;

/// <summary>The forecast page in a real Chromium: a lead forecasts the plan, moves a wave up and compares.</summary>
[Collection("Hangfire")]
public sealed class ForecastPageTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Lead_MovesAWaveUp_AndTheWhatIfShowsTheNewOrderBesideThePlan()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var baseUrl = app.StartOnLoopback();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "FUI", imagingSlots: 0);
        await TestFleet.LaunchWaveAsync(db, "Payroll", await TestFleet.AddMachinesAsync(db, site, 20, "PAY"), ordinal: 1);
        await TestFleet.LaunchWaveAsync(db, "Warehouse", await TestFleet.AddMachinesAsync(db, site, 20, "WH"), ordinal: 2);
        await TestFleet.ExecuteAsync(db, $"UPDATE reimage.sites SET imaging_slots = 4 WHERE id = '{site.Id}'");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(Browsers.Options);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1366, Height = 900 } });
        await Browsers.SignInAsync(page, baseUrl, "admin", ReimageApp.AdminPassword);
        await page.GotoAsync(baseUrl + "/forecast");
        await page.WaitForSelectorAsync("section.forecast[data-interactive]");
        await page.GetByTestId("run-forecast").ClickAsync();
        await Assertions.Expect(page.GetByTestId("forecast-result")).ToBeVisibleAsync();

        await Assertions.Expect(page.GetByTestId("move-up-Payroll")).ToBeDisabledAsync();
        await page.GetByTestId("move-up-Warehouse").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wave-order").Locator("li").First).ToContainTextAsync("Warehouse");
        await page.GetByTestId("run-what-if").ClickAsync();

        await Assertions.Expect(page.GetByTestId("what-if-result")).ToContainTextAsync("waves in the order Warehouse → Payroll");
        Directory.CreateDirectory(Browsers.ScreenshotDirectory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Browsers.ScreenshotDirectory, "forecast-what-if-desktop.png"), FullPage = true });
    }
}
