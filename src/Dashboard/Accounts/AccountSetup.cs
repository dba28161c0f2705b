using Reimage.Orchestrator.Infrastructure;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Reimage.Dashboard.Accounts;

/// <summary>
/// Brings the accounts store up at start: its schema, the four roles, and the first admin when there is nobody yet —
/// with the password from <c>Reimage:Security:InitialAdminPassword</c>, or a generated one-time password printed once
/// to the console (never to the log), which must be changed at first sign-in. Demo users exist only with <c>--demo</c>.
/// </summary>
public static class AccountSetup
{
    public const string AdminUser = "admin";

    /// <summary>The demo's people and their password; created only in demo mode, which is for rehearsals, not recoveries.</summary>
    public static readonly (string User, string Role, string[] Sites)[] DemoUsers =
        [("lead", Roles.Lead, []), ("technician", Roles.Technician, ["DHA", "RTN"]), ("executive", Roles.Executive, [])];

    public const string DemoPassword = "reimage-demo-2026";

    public static async Task EnsureAccountsAsync(this IServiceProvider services, bool demo, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        // One node at a time: the check-then-create of roles and the first admin must not run twice at once.
        await using var turn = await scope.ServiceProvider.GetRequiredService<Npgsql.NpgsqlDataSource>().InstallationLockAsync("reimage accounts", ct);
        var context = scope.ServiceProvider.GetRequiredService<AccountsDbContext>();
        await context.Database.MigrateAsync(ct);
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in Roles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                Check(await roles.CreateAsync(new IdentityRole(role)));
            }
        }

        var users = scope.ServiceProvider.GetRequiredService<UserManager<ReimageUser>>();
        if (!await users.Users.AnyAsync(ct))
        {
            var configured = scope.ServiceProvider.GetRequiredService<IConfiguration>()["Reimage:Security:InitialAdminPassword"];
            var password = string.IsNullOrEmpty(configured) ? OneTimePassword() : configured;
            await CreateAsync(users, AdminUser, "Administrator", Roles.Admin, [], password, mustChange: string.IsNullOrEmpty(configured));
            if (string.IsNullOrEmpty(configured))
            {
                Console.WriteLine($"Reimage: first start. Sign in as '{AdminUser}' with the one-time password {password} and choose your own.");
            }
        }

        if (demo)
        {
            foreach (var (name, role, sites) in DemoUsers.Where(d => users.Users.All(u => u.UserName != d.User)))
            {
                await CreateAsync(users, name, $"Demo {role.ToLowerInvariant()}", role, sites, DemoPassword, mustChange: false);
            }

            Console.WriteLine($"Reimage demo: users {string.Join(", ", DemoUsers.Select(d => d.User))} sign in with the password {DemoPassword}.");
        }
    }

    public static async Task<ReimageUser> CreateAsync(UserManager<ReimageUser> users, string name, string? displayName, string role, IEnumerable<string> sites, string password, bool mustChange)
    {
        var user = new ReimageUser { UserName = name, DisplayName = displayName, SiteCodes = [.. sites.Select(s => s.ToUpperInvariant())], MustChangePassword = mustChange };
        Check(await users.CreateAsync(user, password));
        Check(await users.AddToRoleAsync(user, role));
        return user;
    }

    /// <summary>20 characters from an alphabet without look-alikes: easy to type from a console, ~115 bits.</summary>
    public static string OneTimePassword() => RandomNumberGenerator.GetString("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 20);

    /// <summary>Throws with Identity's own words when <paramref name="result"/> failed.</summary>
    internal static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(string.Join("; ", result.Errors.Select(e => e.Description)));
        }
    }
}
