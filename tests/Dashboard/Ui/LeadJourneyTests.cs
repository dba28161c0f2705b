using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using Reimage.Dashboard.Accounts;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Ui;

/// <summary>
/// A lead's journey in a real Chromium: filter the fleet, save the filter, build a wave from it (one machine is refused,
/// with its reason), approve and launch the wave, see its machines queued, and retry a failed machine from its page.
/// </summary>
[Collection("Hangfire")]
public sealed class LeadJourneyTests(PostgresFixture postgres)
{
    private const string Password = "journey-password-2026";

    [Theory]
    [InlineData("desktop", 1440, 900)]
    [InlineData("tablet", 810, 1080)]
    public async Task Lead_BuildsAWaveFromAFilter_ApprovesAndLaunchesIt_AndSeesItsMachinesQueued(string device, int width, int height)
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var baseUrl = app.StartOnLoopback();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "LJD", imagingSlots: 0); // no slots: launched machines stay Queued
        var machines = await TestFleet.AddMachinesAsync(db, site, 24);
        await TestFleet.AddMachinesAsync(db, await TestFleet.AddSiteAsync(db, "OTH"), 10);
        await TestFleet.ExecuteAsync(db, $"UPDATE reimage.recoveries SET state = 'Failed', step = 'Imaging', attempt = 1, failure_reason = 'image hash mismatch' WHERE machine_id = '{machines[3]}'");
        await app.AddUserAsync("lena", Roles.Lead, [], Password, displayName: "Lena Lead");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(Browsers.Options);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = width, Height = height } });
        await Browsers.SignInAsync(page, baseUrl, "lena", Password);
        Directory.CreateDirectory(Browsers.ScreenshotDirectory);
        Task Shot(string step) => page.ScreenshotAsync(new() { Path = Path.Combine(Browsers.ScreenshotDirectory, $"journey-{step}-{device}.png"), FullPage = true });

        // Filter the fleet to the site and save the filter.
        await page.GotoAsync(baseUrl + "/");
        await page.WaitForSelectorAsync("section.fleet[data-interactive]");
        await page.GetByTestId("filter-site").SelectOptionAsync(site.Id.ToString());
        await Assertions.Expect(page.GetByTestId("match-count")).ToHaveTextAsync("24 machines");
        await page.GetByTestId("save-filter-name").FillAsync("LJD floor");
        await page.GetByTestId("save-filter").ClickAsync();
        await Assertions.Expect(page.GetByTestId("saved-filters").Locator("option", new() { HasText = "LJD floor" })).ToHaveCountAsync(1);

        // Build a wave from everything matching the filter: the failed machine is refused, with the reason.
        await page.GetByTestId("select-all").CheckAsync();
        await Assertions.Expect(page.GetByTestId("bulk-count")).ToHaveTextAsync("24 selected");
        await page.GetByTestId("bulk-wave-name").FillAsync("LJD first floor");
        await page.GetByTestId("bulk-add-to-wave").ClickAsync();
        await Assertions.Expect(page.GetByTestId("bulk-message")).ToHaveTextAsync("Add to wave: 23 done, 1 refused.");
        var refused = page.GetByTestId("bulk-outcome").Filter(new() { HasText = "refused" });
        await Assertions.Expect(refused).ToHaveCountAsync(1);
        await Assertions.Expect(refused).ToContainTextAsync("LJD-PC0003");
        await Assertions.Expect(refused).ToContainTextAsync("the machine is Failed");
        await Shot("1-wave-built");

        // Approve and launch it on the waves page.
        await page.GotoAsync(baseUrl + "/waves");
        await page.WaitForSelectorAsync("section.waves[data-interactive]");
        var row = page.GetByTestId("wave-row").Filter(new() { HasText = "LJD first floor" });
        await Assertions.Expect(row).ToContainTextAsync("Draft");
        await Assertions.Expect(row).ToContainTextAsync("Planned 23");
        await row.GetByTestId("wave-approve").ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("Approved");
        await row.GetByTestId("wave-launch").ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("Launched");
        await Assertions.Expect(row).ToContainTextAsync("lena");
        await Assertions.Expect(row).ToContainTextAsync("Queued 23");
        await Shot("2-wave-launched");

        // Back on the fleet: the saved filter plus the Queued state shows the wave's machines queued.
        await page.GotoAsync(baseUrl + "/");
        await page.WaitForSelectorAsync("section.fleet[data-interactive]");
        await page.GetByTestId("saved-filters").SelectOptionAsync(new SelectOptionValue { Label = "LJD floor" });
        await Assertions.Expect(page.GetByTestId("match-count")).ToHaveTextAsync("24 machines");
        await page.GetByTestId("filter-state").SelectOptionAsync("Queued");
        await Assertions.Expect(page.GetByTestId("match-count")).ToHaveTextAsync("23 machines");
        await Assertions.Expect(page.GetByTestId("count-Queued")).ToHaveTextAsync("23");
        await Shot("3-fleet-queued");

        // The refused machine's page: its failure, and a retry that puts it back in its step.
        await page.GetByTestId("filter-state").SelectOptionAsync("Failed");
        await page.GetByRole(AriaRole.Link, new() { Name = "LJD-PC0003" }).ClickAsync();
        await page.WaitForSelectorAsync("section.machine[data-interactive]");
        await Assertions.Expect(page.GetByTestId("machine-state")).ToHaveTextAsync("Failed");
        await page.GetByTestId("machine-retry").ClickAsync();
        await Assertions.Expect(page.GetByTestId("machine-message")).ToHaveTextAsync("Retry: InProgress at Imaging");
        await Assertions.Expect(page.GetByTestId("machine-state")).ToHaveTextAsync("InProgress");
        await Assertions.Expect(page.GetByTestId("machine-event").First).ToContainTextAsync("lead retried Imaging");
        await Shot("4-machine-retried");
    }
}
