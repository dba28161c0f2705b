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
