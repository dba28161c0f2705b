using Microsoft.Playwright;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Ui;

/// <summary>
/// The import page as a lead uses it in Chromium: check a file, import it, then choose the same file again after
/// fixing nothing (a browser does not report a re-chosen file to the same input: before, that did nothing).
/// </summary>
[Collection("Hangfire")]
public sealed class ImportPageTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Lead_ChecksAFile_ImportsIt_AndChoosingTheSameFileAgainRunsAgain()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var baseUrl = app.StartOnLoopback();
        var file = Path.Combine(Path.GetTempPath(), $"fleet-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(file, "hostname,site,serial_number\nIMP-001,IMP,S-1\nIMP-002,IMP,S-2\n", TestContext.Current.CancellationToken);
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(Browsers.Options);
            var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1366, Height = 900 } });
            await Browsers.SignInAsync(page, baseUrl, "admin", ReimageApp.AdminPassword);
            await page.GotoAsync(baseUrl + "/import");
            await page.WaitForSelectorAsync("section.import[data-interactive]");

            await page.GetByTestId("import-create-sites").CheckAsync();
            await page.GetByTestId("import-dry-run").CheckAsync();
            await page.GetByTestId("import-file").SetInputFilesAsync(file);
            await Assertions.Expect(page.GetByTestId("import-report")).ToContainTextAsync("Valid (nothing written: dry run)");
            await page.GetByTestId("import-now").ClickAsync();
            await Assertions.Expect(page.GetByTestId("import-report")).ToContainTextAsync("Imported");
            await Assertions.Expect(page.GetByTestId("import-report")).ToContainTextAsync("2 new");

            // Unticked, the same file chosen again: it runs again (nothing new to write, and it says so).
            await page.GetByTestId("import-dry-run").UncheckAsync();
            await page.GetByTestId("import-file").SetInputFilesAsync(file);
            await Assertions.Expect(page.GetByTestId("import-report")).ToContainTextAsync("0 new, 0 updated");
            await Assertions.Expect(page.GetByTestId("import-report")).ToContainTextAsync("Imported");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
