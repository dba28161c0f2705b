using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Dashboard.Accounts;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Infrastructure;

/// <summary>
/// Every role against every page and endpoint family: allowed cells get past authorization (whatever the handler
/// then answers), denied cells get 403 (APIs) or the "not allowed" page (pages), anonymous gets 401 or the sign-in page.
/// </summary>
[Collection("Hangfire")]
public sealed class RoleMatrixTests(PostgresFixture postgres)
{
    private const string Password = "matrix-password-2026";
    private const string A = "admin", L = "lead", T = "technician", E = "executive";
    private static readonly Guid Machine = Guid.Parse("0192f1d4-7d1e-7c3a-9b7e-1f2a3b4c5d6e");

    public static TheoryData<string, string, string> Cells()
    {
        var cells = new TheoryData<string, string, string>();
        void Cell(string method, string path, params string[] allowed) => cells.Add(method, path, string.Join(",", allowed));
        Cell("GET", "/", A, L, E);
        foreach (var page in new[] { "/waves", "/sites", "/agents", "/failures", "/import" })
        {
            Cell("GET", page, A, L);
        }

        Cell("GET", "/hangfire", A, L);
        Cell("GET", "/forecast", A, L, E);
        Cell("GET", "/api/forecast", A, L, E);
        Cell("GET", "/account/password", A, L, T, E);
        Cell("GET", "/api/waves", A, L);
        Cell("POST", "/api/waves", A, L);
        Cell("POST", "/api/machines/actions", A, L);
        Cell("GET", "/api/machines/export", A, L);
        Cell("GET", $"/machines/{Machine}", A, L, E);
        Cell("POST", "/api/import", A, L);
        Cell("GET", "/api/import/site-rules", A, L);
        Cell("POST", "/api/import/site-rules", A, L);
        Cell("DELETE", $"/api/import/site-rules/{Machine}", A, L);
        Cell("GET", "/api/sites", A, L, E);
        Cell("PUT", $"/api/sites/{Machine}/capacity", A, L);
        Cell("GET", "/api/agents", A, L);
        Cell("GET", "/api/tokens", A, L);
        Cell("POST", $"/api/tokens/{Machine}/revoke", A, L);
        Cell("POST", $"/api/sites/{Machine}/enrolment-tokens", A, L);
        Cell("GET", "/api/images", A, L);
        Cell("GET", "/api/users", A);
        Cell("POST", "/api/users", A);
        Cell("POST", $"/api/machines/{Machine}/steps/RemoveDrive/complete", A, L, T);
        Cell("GET", $"/api/machines/{Machine}/custody", A, L, T);
        Cell("POST", $"/api/machines/{Machine}/claim", A, L, T);
        Cell("POST", $"/api/machines/{Machine}/reassign", A, L);
        Cell("GET", "/api/evidence/export?case=x", A, L);
        Cell("GET", "/api/evidence/bundle?case=x", A, L);
        Cell("GET", "/audit", A, L);
        Cell("GET", "/api/audit/checkpoints", A, L);
        Cell("GET", "/api/audit/checkpoint-key", A, L);
        Cell("GET", "/progress", A, L, E);
        Cell("GET", "/api/progress", A, L, E);
        Cell("GET", "/tech", A, L, T);
        Cell("GET", $"/tech/machines/{Machine}", A, L, T);
        Cell("GET", "/labels?site=DHA", A, L, T);
        Cell("PUT", $"/api/users/{T}/technician", A);
        Cell("PUT", $"/api/users/{T}/access", A);
        Cell("POST", "/api/users/no-such-person/lock", A);
        Cell("POST", "/api/users/no-such-person/unlock", A);
        Cell("GET", "/handover", A, L);
        Cell("GET", "/api/handover", A, L, T);
        Cell("POST", "/api/handover", A, L);
        return cells;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public async Task EachRole_IsLetInExactlyWhereItsCellSays(string method, string path, string allowed)
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        await UsersAsync(app);
        var isPage = !path.StartsWith("/api", StringComparison.Ordinal) && path != "/hangfire";

        foreach (var role in new[] { A, L, T, E })
        {
            await app.CookieAsync(role, role == A ? ReimageApp.AdminPassword : Password);
            var (status, _) = await app.SendJsonAsync(method, path, method == "GET" ? "" : "{}", asUser: role);
            var letIn = status is not (401 or 403) && !(status == 302 && isPage);
            Assert.True(letIn == allowed.Split(',').Contains(role), $"{role} {method} {path}: {status}, expected {(allowed.Split(',').Contains(role) ? "allowed" : "denied")}");
            if (!letIn && !isPage)
            {
                Assert.Equal(403, status);
            }
        }

        var anonymous = await app.SendAsync(method, path, ReimageApp.Remote);
        Assert.Equal(isPage ? 302 : 401, anonymous.Status);
    }

    [Fact]
    public async Task HangfireDashboard_IsForLeadsAndAdminsOnly_AndASpoofedForwardedForChangesNothing()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        await UsersAsync(app);

        var executive = await app.CookieAsync(E, Password);
        var spoofed = await app.SendAsync("GET", "/hangfire", ReimageApp.Remote, c =>
        {
            c.Request.Headers["X-Forwarded-For"] = "127.0.0.1";
            c.Request.Headers.Cookie = executive;
        });
        var anonymousLocal = await app.SendAsync("GET", "/hangfire", IPAddress.Loopback, c => c.Request.Headers.Remove("Cookie"));
        var lead = await app.SendJsonAsync("GET", "/hangfire", "", asUser: await LeadAsync(app));

        Assert.Equal((403, 401, 200), (spoofed.Status, anonymousLocal.Status, lead.Status));
    }

    [Fact]
    public async Task Technician_ChecksOffOnlyMachinesOfTheirOwnSites()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        await UsersAsync(app);
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var own = await TestFleet.AddSiteAsync(db, "DHA");
        var other = await TestFleet.AddSiteAsync(db, "JED");
        var mine = (await TestFleet.AddMachinesAsync(db, own, 1))[0];
        var theirs = (await TestFleet.AddMachinesAsync(db, other, 1))[0];
        await app.CookieAsync(T, Password);

        var outside = await app.SendJsonAsync("GET", $"/api/machines/{theirs}/custody", "", asUser: T);
        var inside = await app.SendJsonAsync("GET", $"/api/machines/{mine}/custody", "", asUser: T);

        Assert.Equal((403, 200), (outside.Status, inside.Status));
    }

    [Fact]
    public async Task AGeneratedPassword_MustBeChangedBeforeAnythingElse()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var created = await app.SendJsonAsync("POST", "/api/users", """{"userName":"newlead","role":"Lead"}""");
        Assert.Equal(201, created.Status);
        var oneTime = System.Text.Json.JsonDocument.Parse(created.Body).RootElement.GetProperty("oneTimePassword").GetString()!;
        await app.CookieAsync("newlead", oneTime);

        var api = await app.SendJsonAsync("GET", "/api/waves", "", asUser: "newlead");
        var page = await app.SendJsonAsync("GET", "/waves", "", asUser: "newlead");
        var badTechnician = await app.SendJsonAsync("POST", "/api/users", """{"userName":"t","role":"Technician"}""");

        Assert.Equal((403, 302), (api.Status, page.Status));
        Assert.Contains("choose your own password", api.Body, StringComparison.Ordinal);
        Assert.Equal(400, badTechnician.Status);
    }

    private static async Task UsersAsync(ReimageApp app)
    {
        await app.AddUserAsync(L, Roles.Lead, [], Password);
        await app.AddUserAsync(T, Roles.Technician, ["DHA"], Password);
        await app.AddUserAsync(E, Roles.Executive, [], Password);
    }

    private static async Task<string> LeadAsync(ReimageApp app)
    {
        await app.CookieAsync(L, Password);
        return L;
    }
}
