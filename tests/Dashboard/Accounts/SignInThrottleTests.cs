using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Reimage.Dashboard.Accounts;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Accounts;

/// <summary>
/// Password guessing as it really comes: one address trying many times, and a spray of the admin's name from many
/// addresses. Before, 60 of 60 attempts were processed, and 10 wrong passwords from anyone locked the admin out for
/// 15 minutes.
/// </summary>
public sealed class SignInThrottleTests
{
    [Fact]
    public void OneSource_IsRefusedAfterItsFailures_UntilTheWindowEnds()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 9, 0, 0, TimeSpan.Zero));
        var throttle = new SignInThrottle(clock);
        for (var i = 0; i < SignInThrottle.SourceFailures; i++)
        {
            Assert.Null(throttle.RetryAfter("198.51.100.7", $"user{i}"));
            throttle.Failed("198.51.100.7", $"user{i}");
        }

        Assert.NotNull(throttle.RetryAfter("198.51.100.7", "someone-else"));
        Assert.Null(throttle.RetryAfter("198.51.100.8", "someone-else"));
        clock.Advance(SignInThrottle.SourceWindow);
        Assert.Null(throttle.RetryAfter("198.51.100.7", "someone-else"));
    }
}

[Collection("Hangfire")]
public sealed class SignInAbuseTests(PostgresFixture postgres)
{
    [Fact]
    public async Task ASprayOfTheAdminsName_CannotKeepTheAdminOutOfAKnownDevice_AndLocksNothing()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var desk = IPAddress.Parse("10.1.1.10");
        Assert.Equal(200, (await LoginAsync(app, desk, "admin", ReimageApp.AdminPassword)).Status);

        var sprayed = new List<int>();
        for (var i = 0; i < 25; i++)
        {
            sprayed.Add((await LoginAsync(app, IPAddress.Parse($"203.0.113.{i + 1}"), "admin", $"guess-{i}")).Status);
        }

        var fromTheDesk = await LoginAsync(app, desk, "admin", ReimageApp.AdminPassword);
        var fromANewPlace = await LoginAsync(app, IPAddress.Parse("10.9.9.9"), "admin", ReimageApp.AdminPassword);

        Assert.Equal(SignInThrottle.AccountFailures, sprayed.Count(s => s == 401));
        Assert.All(sprayed.Skip(SignInThrottle.AccountFailures), s => Assert.Equal(429, s));
        Assert.Equal(200, fromTheDesk.Status);
        Assert.Equal(429, fromANewPlace.Status);
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<ReimageUser>>();
        Assert.False(await users.IsLockedOutAsync((await users.FindByNameAsync("admin"))!));
    }

    [Fact]
    public async Task OneAddressGuessing_IsRefusedAfterTenFailures()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var guesser = IPAddress.Parse("198.51.100.23");

        var statuses = new List<int>();
        for (var i = 0; i < 12; i++)
        {
            statuses.Add((await LoginAsync(app, guesser, $"user{i % 3}", "wrong-password")).Status);
        }

        Assert.Equal([.. Enumerable.Repeat(401, SignInThrottle.SourceFailures), 429, 429], statuses);
    }

    private static Task<(int Status, string Body)> LoginAsync(ReimageApp app, IPAddress from, string user, string password) =>
        app.SendRawAsync("POST", "/api/account/login", from, System.Text.Encoding.UTF8.GetBytes($$"""{"userName":"{{user}}","password":"{{password}}"}"""), "application/json");
}
