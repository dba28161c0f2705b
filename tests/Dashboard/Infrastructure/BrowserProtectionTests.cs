using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using Reimage.Dashboard.Tests.Ui;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Infrastructure;

/// <summary>
/// What a browser may do here. The requests stand for a page of another origin that the signed-in lead has open: a
/// form on a sibling subdomain (same site, so SameSite=Strict still sends the cookie) posting an import or a body-less
/// action; browsers mark such requests with <c>Sec-Fetch-Site</c> and, older ones, only with <c>Origin</c>. Scripts
/// and agents send neither header and are not affected.
/// </summary>
[Collection("Hangfire")]
public sealed class BrowserProtectionTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ACrossOriginChange_IsRefused_WithNothingWritten_WhileOurPagesAndScriptsPass()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        await app.CookieAsync();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        const string csv = "hostname,site\nEVIL-01,HQ\n";

        var crossSite = await app.SendAsync("POST", "/api/import?createSites=true", IPAddress.Loopback, c => c.Request.Headers["Sec-Fetch-Site"] = "same-site", csv, "admin");
        var foreignOrigin = await app.SendAsync("POST", "/api/import?createSites=true", IPAddress.Loopback, c => c.Request.Headers.Origin = "https://intranet.example.org", csv, "admin");
        var opaqueOrigin = await app.SendAsync("POST", "/api/import?createSites=true", IPAddress.Loopback, c => c.Request.Headers.Origin = "null", csv, "admin");
        var bodyless = await app.SendAsync("POST", $"/api/machines/{Guid.NewGuid()}/claim", IPAddress.Loopback, c => c.Request.Headers["Sec-Fetch-Site"] = "cross-site", asUser: "admin");

        Assert.Equal((403, 403, 403, 403), (crossSite.Status, foreignOrigin.Status, opaqueOrigin.Status, bodyless.Status));
        Assert.Contains("another origin", crossSite.Body, StringComparison.Ordinal);
        await using (var count = db.CreateCommand("SELECT count(*) FROM reimage.machines"))
        {
            Assert.Equal(0L, (long)(await count.ExecuteScalarAsync(Ct))!);
        }

        var ownPage = await app.SendAsync("POST", "/api/import?createSites=true", IPAddress.Loopback, c => c.Request.Headers["Sec-Fetch-Site"] = "same-origin", csv, "admin");
        var ownOrigin = await app.SendAsync("POST", "/api/import?createSites=true", IPAddress.Loopback, c => c.Request.Headers.Origin = "http://localhost", csv, "admin");
        var script = await app.SendAsync("POST", "/api/import?createSites=true", IPAddress.Loopback, body: csv, asUser: "admin");
        var read = await app.SendAsync("GET", "/api/waves", IPAddress.Loopback, c => c.Request.Headers["Sec-Fetch-Site"] = "cross-site", asUser: "admin");

        Assert.Equal((200, 200, 200, 200), (ownPage.Status, ownOrigin.Status, script.Status, read.Status));
    }

    /// <summary>
    /// The Content-Security-Policy as Chromium enforces it: every audience's pages, the charts, the labels and the
    /// Hangfire Dashboard load and run with it, and Chromium reports no violation (an inline script or handler that
    /// the policy blocks would be one; so would Blazor failing to start).
    /// </summary>
    [Fact]
    public async Task EveryPage_LivesWithTheContentSecurityPolicy_InChromium()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync(), environment: "Production");
        var baseUrl = app.StartOnLoopback();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "CSP", imagingSlots: 0);
        await TestFleet.AddMachinesAsync(db, site, 5);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(Browsers.Options);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1366, Height = 900 } });
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                lock (violations)
                {
                    violations.Add($"{page.Url}: {message.Text}");
                }
            }
        };
        await page.AddInitScriptAsync("document.addEventListener('securitypolicyviolation', e => console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));");

        await Browsers.SignInAsync(page, baseUrl, "admin", ReimageApp.AdminPassword);
        foreach (var (path, ready) in new[]
        {
            ("/", "section.fleet[data-interactive]"),
            ("/progress", "[data-testid=burn-down] .main-svg"),
            ("/forecast", "body"),
            ("/waves", "section.waves[data-interactive]"),
            ("/agents", "section.agents[data-interactive]"),
            ("/tech", "body"),
            ("/labels?site=CSP", "[data-print]"),
            ("/audit", "[data-testid=public-key]"),
            ("/hangfire", "canvas"), // its charts: drawn by its scripts
        })
        {
            var response = await page.GotoAsync(baseUrl + path);
            Assert.True(response?.Ok, $"{path}: {response?.Status}");
            Assert.Contains("script-src 'self'", await response!.HeaderValueAsync("content-security-policy") ?? "", StringComparison.Ordinal);
            await page.WaitForSelectorAsync(ready);
        }

        await page.GotoAsync(baseUrl + "/");
        await page.WaitForSelectorAsync("section.fleet[data-interactive]");
        lock (violations)
        {
            Assert.Empty(violations);
        }
    }
}
