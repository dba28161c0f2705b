using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Reimage.Dashboard.Infrastructure;

namespace Reimage.Dashboard.Accounts;

public sealed record SignIn(string? UserName, string? Password);

public sealed record NewUser(string? UserName, string? DisplayName, string? Role, string[]? Sites, Guid? Technician = null);

public sealed record TechnicianLink(Guid? Technician);

/// <summary>A person's role and (for a technician) sites, as an admin sets them.</summary>
public sealed record AccountAccess(string? Role, string[]? Sites);

/// <summary>
/// Sign-in for scripts and tests (<c>POST /api/account/login</c>, the same cookie the sign-in page sets), sign-out,
/// and the admin's people API: create a user with a role (and sites, for a technician), who gets a one-time password.
/// </summary>
public static class AccountEndpoints
{
    public const string SignInLimit = "sign-in";

    public static WebApplicationBuilder AddAccountLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddRateLimiter(o => o.AddPolicy(SignInLimit, http => RateLimitPartition.GetFixedWindowLimiter(
            http.Connection.RemoteIpAddress?.ToString() ?? "?", _ => new FixedWindowRateLimiterOptions { PermitLimit = 30, Window = TimeSpan.FromMinutes(1) })));
        builder.Services.AddSingleton<SignInThrottle>();
        return builder;
    }

    private static bool IsLocked(ReimageUser user) => user.LockoutEnd is { } end && end > DateTimeOffset.UtcNow;

    public static WebApplication MapAccountApi(this WebApplication app)
    {
        app.MapPost("/api/account/login", async (SignIn body, SignInManager<ReimageUser> signIn, UserManager<ReimageUser> users, SignInThrottle throttle, HttpContext http) =>
        {
            if (string.IsNullOrWhiteSpace(body.UserName) || string.IsNullOrEmpty(body.Password))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["userName"] = ["user name and password"] });
            }

            var source = http.Connection.RemoteIpAddress?.ToString() ?? "?";
            var name = body.UserName.Trim();
            if (throttle.RetryAfter(source, name) is { } wait)
            {
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.Json(new { error = "too many failed sign-ins; try again later" }, statusCode: StatusCodes.Status429TooManyRequests);
            }

            // No hard lock: the throttle slows guessing, and a guesser cannot lock the admin out.
            var result = await signIn.PasswordSignInAsync(name, body.Password, isPersistent: false, lockoutOnFailure: false);
            if (!result.Succeeded)
            {
                throttle.Failed(source, name);
                return Results.Json(new { error = result.IsLockedOut ? "locked out for a while after too many failures" : "wrong user name or password" },
                    statusCode: StatusCodes.Status401Unauthorized);
            }

            throttle.Succeeded(source, name);
            var user = (await users.FindByNameAsync(name))!;
            return Results.Ok(new { user.UserName, roles = await users.GetRolesAsync(user), user.MustChangePassword });
        }).AllowAnonymous().RequireRateLimiting(SignInLimit);

        // A form post from the page header, with the antiforgery token the form carries: without it, refused (another
        // page must not be able to sign someone out, or out everywhere).
        // ?everywhere=true also ends the person's sessions on every other device (their security stamp moves).
        app.MapPost("/account/logout", async (bool? everywhere, SignInManager<ReimageUser> signIn, UserManager<ReimageUser> users, ClaimsPrincipal principal,
            Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery, HttpContext http) =>
        {
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Results.Problem(title: "Sign out from Reimage's own page: the form's antiforgery token is missing or wrong", statusCode: StatusCodes.Status400BadRequest);
            }

            if (everywhere == true && await users.GetUserAsync(principal) is { } user)
            {
                await users.UpdateSecurityStampAsync(user);
            }

            await signIn.SignOutAsync();
            return Results.Redirect("/account/login");
        }).RequireAuthorization(Policies.SignedIn);

        var people = app.MapGroup("/api/users").RequireAuthorization(Policies.Admin);
        people.MapGet("/", async (UserManager<ReimageUser> users, CancellationToken ct) =>
        {
            var list = await users.Users.OrderBy(u => u.UserName).ToListAsync(ct);
            var views = new List<object>();
            foreach (var u in list)
            {
                views.Add(new { u.Id, u.UserName, u.DisplayName, roles = await users.GetRolesAsync(u), sites = u.SiteCodes, u.MustChangePassword });
            }

            return views;
        });
        people.MapPost("/", async (NewUser body, UserManager<ReimageUser> users, SiteScope scope, ClaimsPrincipal admin, ILogger<ReimageUser> logger, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (string.IsNullOrWhiteSpace(body.UserName) || body.UserName.Trim().Length > 64)
            {
                errors["userName"] = ["1 to 64 characters"];
            }

            if (!Roles.All.Contains(body.Role))
            {
                errors["role"] = [$"one of: {string.Join(", ", Roles.All)}"];
            }

            if (body.Role == Roles.Technician && body.Sites is not { Length: > 0 })
            {
                errors["sites"] = ["a technician works at one or more sites (their codes)"];
            }

            if (body.Technician is { } technician && await scope.SiteOfTechnicianAsync(technician, ct) is var site
                && (body.Role != Roles.Technician || site is null || !(body.Sites ?? []).Contains(site, StringComparer.OrdinalIgnoreCase)))
            {
                errors["technician"] = [site is null ? "no such roster entry" : body.Role != Roles.Technician ? "only a technician account has a roster entry" : $"that roster entry works at {site}, which is not one of the account's sites"];
            }

            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors);
            }

            if (await users.FindByNameAsync(body.UserName!.Trim()) is not null)
            {
                return Results.Conflict(new { error = $"{body.UserName.Trim()} already exists" });
            }

            var password = AccountSetup.OneTimePassword();
            var user = await AccountSetup.CreateAsync(users, body.UserName.Trim(), body.DisplayName, body.Role!, body.Sites ?? [], password, mustChange: true);
            if (body.Technician is { } rosterEntry)
            {
                await users.AddClaimAsync(user, new Claim(ReimageClaimsFactory.TechnicianClaim, rosterEntry.ToString()));
            }

            logger.LogInformation("{Admin} created user {User} with role {Role}", admin.Identity?.Name, user.UserName, body.Role);
            // Shown once, to the admin who hands it over; the user must replace it at first sign-in.
            return Results.Json(new { user.Id, user.UserName, role = body.Role, oneTimePassword = password }, statusCode: StatusCodes.Status201Created);
        });

        // Links a technician account to its roster entry (or unlinks it with null); the person's sessions end within seconds.
        people.MapPut("/{userName}/technician", async (string userName, TechnicianLink body, UserManager<ReimageUser> users, SiteScope scope, CancellationToken ct) =>
        {
            if (await users.FindByNameAsync(userName) is not { } user)
            {
                return Results.NotFound(new { error = $"no user {userName}" });
            }

            if (body.Technician is { } technician)
            {
                var site = await scope.SiteOfTechnicianAsync(technician, ct);
                if (site is null || !await users.IsInRoleAsync(user, Roles.Technician) || !user.SiteCodes.Contains(site, StringComparer.OrdinalIgnoreCase))
                {
                    return Results.ValidationProblem(new Dictionary<string, string[]>
                    {
                        ["technician"] = [site is null ? "no such roster entry" : $"{userName} is not a technician at {site}"],
                    });
                }
            }

            foreach (var old in (await users.GetClaimsAsync(user)).Where(c => c.Type == ReimageClaimsFactory.TechnicianClaim))
            {
                await users.RemoveClaimAsync(user, old);
            }

            if (body.Technician is { } linked)
            {
                await users.AddClaimAsync(user, new Claim(ReimageClaimsFactory.TechnicianClaim, linked.ToString()));
            }

            // Claims and roles do not move the stamp by themselves: the person's sessions end, and they sign in again.
            await users.UpdateSecurityStampAsync(user);
            return Results.Ok(new { user.UserName, technician = body.Technician });
        });

        // A person's role and sites. Their sessions end within seconds (the stamp moves): they sign in again with the new ones.
        people.MapPut("/{userName}/access", async (string userName, AccountAccess body, UserManager<ReimageUser> users, ClaimsPrincipal admin,
            ILogger<ReimageUser> logger) =>
        {
            if (await users.FindByNameAsync(userName) is not { } user)
            {
                return Results.NotFound(new { error = $"no user {userName}" });
            }

            var errors = new Dictionary<string, string[]>();
            if (!Roles.All.Contains(body.Role))
            {
                errors["role"] = [$"one of: {string.Join(", ", Roles.All)}"];
            }

            var sites = (body.Sites ?? []).Select(s => s.Trim().ToUpperInvariant()).Where(s => s.Length > 0).Distinct().ToArray();
            if (body.Role == Roles.Technician && sites.Length == 0)
            {
                errors["sites"] = ["a technician works at one or more sites (their codes)"];
            }

            var current = await users.GetRolesAsync(user);
            if (current.Contains(Roles.Admin) && body.Role != Roles.Admin && (await users.GetUsersInRoleAsync(Roles.Admin)).Count(u => !IsLocked(u)) <= 1)
            {
                errors["role"] = ["this is the last admin who can sign in: make another admin first"];
            }

            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors);
            }

            user.SiteCodes = body.Role == Roles.Technician ? [.. sites] : [];
            AccountSetup.Check(await users.UpdateAsync(user));
            AccountSetup.Check(await users.RemoveFromRolesAsync(user, current.Where(r => r != body.Role)));
            if (!current.Contains(body.Role!))
            {
                AccountSetup.Check(await users.AddToRoleAsync(user, body.Role!));
            }

            if (body.Role != Roles.Technician)
            {
                foreach (var link in (await users.GetClaimsAsync(user)).Where(c => c.Type == ReimageClaimsFactory.TechnicianClaim))
                {
                    await users.RemoveClaimAsync(user, link);
                }
            }

            await users.UpdateSecurityStampAsync(user);
            logger.LogInformation("{Admin} set {User} to {Role} at {Sites}", admin.Identity?.Name, user.UserName, body.Role, string.Join(" ", user.SiteCodes));
            return Results.Ok(new { user.UserName, role = body.Role, sites = user.SiteCodes });
        });

        // Locks a person out (a lost tablet, someone who left): every session of theirs ends within seconds, and they cannot sign in.
        people.MapPost("/{userName}/lock", async (string userName, UserManager<ReimageUser> users, ClaimsPrincipal admin, ILogger<ReimageUser> logger) =>
        {
            if (await users.FindByNameAsync(userName) is not { } user)
            {
                return Results.NotFound(new { error = $"no user {userName}" });
            }

            if (string.Equals(user.UserName, admin.Identity?.Name, StringComparison.OrdinalIgnoreCase))
            {
                return Results.Conflict(new { error = "you cannot lock yourself out" });
            }

            AccountSetup.Check(await users.SetLockoutEnabledAsync(user, true));
            AccountSetup.Check(await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue));
            await users.UpdateSecurityStampAsync(user);
            logger.LogInformation("{Admin} locked {User}", admin.Identity?.Name, user.UserName);
            return Results.Ok(new { user.UserName, locked = true });
        });

        people.MapPost("/{userName}/unlock", async (string userName, UserManager<ReimageUser> users, ClaimsPrincipal admin, ILogger<ReimageUser> logger) =>
        {
            if (await users.FindByNameAsync(userName) is not { } user)
            {
                return Results.NotFound(new { error = $"no user {userName}" });
            }

            AccountSetup.Check(await users.SetLockoutEndDateAsync(user, null));
            AccountSetup.Check(await users.ResetAccessFailedCountAsync(user));
            logger.LogInformation("{Admin} unlocked {User}", admin.Identity?.Name, user.UserName);
            return Results.Ok(new { user.UserName, locked = false });
        });
        return app;
    }
}
