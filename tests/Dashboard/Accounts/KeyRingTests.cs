using Microsoft.Extensions.DependencyInjection;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Accounts;

/// <summary>
/// The sign-in cookie is signed with the installation's own key ring, kept in its database. Two installations run by
/// one OS account here, as the demo and a real instance did: before, both used the default ring in ~/.aspnet and the
/// demo's cookie (its password is public) opened the real one. A second node of the same installation (same
/// database) must accept it.
/// </summary>
[Collection("Hangfire")]
public sealed class KeyRingTests(PostgresFixture postgres)
{
    [Fact]
    public async Task ACookieFromAnotherInstallation_IsRefused_AndOneFromAnotherNodeOfTheSameInstallationIsAccepted()
    {
        var realDatabase = await postgres.CreateDatabaseAsync();
        await using var demo = new ReimageApp(await postgres.CreateDatabaseAsync());
        await using var real = new ReimageApp(realDatabase);
        await using var secondNode = new ReimageApp(realDatabase);
        var demoCookie = await demo.CookieAsync();
        var realCookie = await real.CookieAsync();

        var foreign = await real.SendAsync("GET", "/api/waves", ReimageApp.Remote, configure: c => c.Request.Headers.Cookie = demoCookie);
        var own = await real.SendAsync("GET", "/api/waves", ReimageApp.Remote, configure: c => c.Request.Headers.Cookie = realCookie);
        var otherNode = await secondNode.SendAsync("GET", "/api/waves", ReimageApp.Remote, configure: c => c.Request.Headers.Cookie = realCookie);

        Assert.Equal((401, 200, 200), (foreign.Status, own.Status, otherNode.Status));
        Assert.True(await TestFleet.ScalarAsync<long>(Npgsql.NpgsqlDataSource.Create(realDatabase), "SELECT count(*) FROM identity.data_protection_keys") >= 1);
    }
}

/// <summary>
/// A stolen or forgotten session (a tablet left signed in, a cookie copied off a shared PC) ends when its owner changes
/// their password or signs out everywhere. Revalidation runs on every request here (interval 0); in production every
/// 10 s by default.
/// </summary>
[Collection("Hangfire")]
public sealed class SessionTests(PostgresFixture postgres)
{
    [Theory]
    [InlineData("password")]
    [InlineData("everywhere")]
    [InlineData("role")]
    [InlineData("lock")]
    public async Task OtherSessions_End_WhenThePasswordChangesOrThePersonSignsOutEverywhere_OrTheirRoleChanges_OrTheyAreLocked(string how)
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync(), settings: new Dictionary<string, string> { ["Reimage:Security:SessionRevalidation"] = "00:00:00" });
        await app.AddUserAsync("lead.amal", Reimage.Dashboard.Accounts.Roles.Lead, [], "amal-password-2026");
        var tablet = await SignInAsync(app, "lead.amal", "amal-password-2026");
        var laptop = await SignInAsync(app, "lead.amal", "amal-password-2026");
        Assert.Equal(200, (await AsAsync(app, tablet)).Status);

        if (how == "password")
        {
            await using var scope = app.Services.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Reimage.Dashboard.Accounts.ReimageUser>>();
            var user = (await users.FindByNameAsync("lead.amal"))!;
            Assert.True((await users.ChangePasswordAsync(user, "amal-password-2026", "a-new-pass-phrase-2026")).Succeeded);
        }
        else if (how == "role")
        {
            await app.CookieAsync();
            var lastAdmin = await app.SendJsonAsync("PUT", "/api/users/admin/access", """{"role":"Lead"}""", asUser: "admin");
            var changed = await app.SendJsonAsync("PUT", "/api/users/lead.amal/access", """{"role":"Executive"}""", asUser: "admin");
            Assert.Equal((400, 200), (lastAdmin.Status, changed.Status));
            Assert.Contains("last admin", lastAdmin.Body, StringComparison.Ordinal);
            Assert.Equal(401, (await AsAsync(app, tablet)).Status);
            // Signed in again, with the new role: an executive does not plan waves.
            Assert.Equal(403, (await AsAsync(app, await SignInAsync(app, "lead.amal", "amal-password-2026"))).Status);
            return;
        }
        else if (how == "lock")
        {
            await app.CookieAsync();
            var self = await app.SendJsonAsync("POST", "/api/users/admin/lock", "", asUser: "admin");
            var locked = await app.SendJsonAsync("POST", "/api/users/lead.amal/lock", "", asUser: "admin");
            Assert.Equal((409, 200), (self.Status, locked.Status));
            Assert.Equal(401, (await AsAsync(app, tablet)).Status);
            await Assert.ThrowsAsync<InvalidOperationException>(() => SignInAsync(app, "lead.amal", "amal-password-2026"));
            Assert.Equal(200, (await app.SendJsonAsync("POST", "/api/users/lead.amal/unlock", "", asUser: "admin")).Status);
            Assert.Equal(200, (await AsAsync(app, await SignInAsync(app, "lead.amal", "amal-password-2026"))).Status);
            return;
        }
        else
        {
            // Without the form's antiforgery token (another page posting it), or from another origin, nothing happens.
            var forged = await app.SendAsync("POST", "/account/logout?everywhere=true", ReimageApp.Remote, configure: c => c.Request.Headers.Cookie = laptop);
            var crossSite = await app.SendAsync("POST", "/account/logout?everywhere=true", ReimageApp.Remote, configure: c =>
            {
                c.Request.Headers.Cookie = laptop;
                c.Request.Headers["Sec-Fetch-Site"] = "same-site"; // a sibling subdomain's page: SameSite lets the cookie through
            });
            Assert.Equal((400, 403), (forged.Status, crossSite.Status));
            Assert.Equal(200, (await AsAsync(app, tablet)).Status);

            Assert.Equal(302, await SignOutThroughTheFormAsync(app, laptop, "/account/logout?everywhere=true"));
        }

        Assert.Equal(401, (await AsAsync(app, tablet)).Status);
    }

    /// <summary>Does what the header's "Sign out" form does: loads a page for its antiforgery token and cookie, and posts them.</summary>
    private static async Task<int> SignOutThroughTheFormAsync(ReimageApp app, string cookie, string action)
    {
        var page = await app.Server.SendAsync(c =>
        {
            c.Request.Method = "GET";
            c.Request.Path = "/waves";
            c.Connection.RemoteIpAddress = ReimageApp.Remote;
            c.Request.Headers.Cookie = cookie;
        });
        var html = await new StreamReader(page.Response.Body).ReadToEndAsync();
        var input = System.Text.RegularExpressions.Regex.Match(html, "<input[^>]*__RequestVerificationToken[^>]*>").Value;
        var token = System.Text.RegularExpressions.Regex.Match(input, "value=\"([^\"]+)\"").Groups[1].Value;
        var antiforgery = page.Response.Headers.SetCookie.Select(c => c!.Split(';')[0]).Single(c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal));
        Assert.NotEmpty(token);
        var form = "__RequestVerificationToken=" + Uri.EscapeDataString(token);
        var query = action.IndexOf('?', StringComparison.Ordinal);
        var posted = await app.Server.SendAsync(c =>
        {
            c.Request.Method = "POST";
            c.Request.Path = action[..query];
            c.Request.QueryString = new Microsoft.AspNetCore.Http.QueryString(action[query..]);
            c.Connection.RemoteIpAddress = ReimageApp.Remote;
            c.Request.Headers.Cookie = cookie + "; " + antiforgery;
            c.Request.Headers["Sec-Fetch-Site"] = "same-origin";
            c.Request.ContentType = "application/x-www-form-urlencoded";
            c.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(form));
            c.Request.ContentLength = form.Length;
            c.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>(new ReimageApp.HasBody(true));
        });
        return posted.Response.StatusCode;
    }

    private static Task<(int Status, string Body)> AsAsync(ReimageApp app, string cookie) =>
        app.SendAsync("GET", "/api/waves", ReimageApp.Remote, configure: c => c.Request.Headers.Cookie = cookie);

    private static Task<string> SignInAsync(ReimageApp app, string user, string password) => app.NewSessionAsync(user, password);
}
