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
    public async Task OtherSessions_End_WhenThePasswordChangesOrThePersonSignsOutEverywhere(string how)
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
        else
        {
            var signedOut = await app.SendAsync("POST", "/account/logout?everywhere=true", ReimageApp.Remote, configure: c => c.Request.Headers.Cookie = laptop);
            Assert.Equal(302, signedOut.Status);
        }

        Assert.Equal(401, (await AsAsync(app, tablet)).Status);
    }

    private static Task<(int Status, string Body)> AsAsync(ReimageApp app, string cookie) =>
        app.SendAsync("GET", "/api/waves", ReimageApp.Remote, configure: c => c.Request.Headers.Cookie = cookie);

    private static Task<string> SignInAsync(ReimageApp app, string user, string password) => app.NewSessionAsync(user, password);
}
