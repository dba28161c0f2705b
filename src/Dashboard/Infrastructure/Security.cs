using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Reimage.Dashboard.Accounts;

namespace Reimage.Dashboard.Infrastructure;

/// <summary>The authorization policies every endpoint and page names explicitly.</summary>
public static class Policies
{
    /// <summary>Recovery leads (and admins): plan, import, operate.</summary>
    public const string Lead = "Lead";

    /// <summary>Admins: people and their roles.</summary>
    public const string Admin = "Admin";

    /// <summary>Technicians (scoped to their sites; leads and admins too): their queue and check-offs.</summary>
    public const string Technician = "Technician";

    /// <summary>Executives (read-only; leads and admins too): progress and forecast.</summary>
    public const string Executive = "Executive";

    /// <summary>Anyone signed in, whatever their role (their own password, signing out).</summary>
    public const string SignedIn = "SignedIn";

    /// <summary>An enrolled site agent, scoped to its own site.</summary>
    public const string Agent = "Agent";

    /// <summary>An imaging task sequence holding its site's phone-home token.</summary>
    public const string PhoneHome = "PhoneHome";
}

public static class Security
{
    /// <summary>
    /// Sign-in with ASP.NET Core Identity on PostgreSQL (schema <c>identity</c>) and a cookie that is HttpOnly,
    /// SameSite=Strict and Secure over HTTPS. Pages redirect an anonymous visitor to the sign-in page; APIs answer
    /// 401 or 403. The fallback policy requires a signed-in user, and every endpoint names its own policy on top.
    /// Nothing is trusted for being local: no proxy header is honoured, so a spoofed X-Forwarded-For changes nothing.
    /// </summary>
    public static WebApplicationBuilder AddDashboardSecurity(this WebApplicationBuilder builder)
    {
        builder.Services.AddDbContext<AccountsDbContext>((sp, o) => o
            .UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>(), x => x.MigrationsHistoryTable("__ef_migrations", AccountsDbContext.Schema))
            .UseSnakeCaseNamingConvention());
        builder.Services.AddIdentity<ReimageUser, IdentityRole>(o =>
            {
                // Length over composition rules (NIST SP 800-63B): a long pass phrase beats "Passw0rd!".
                o.Password.RequiredLength = 12;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireLowercase = false;
                o.Password.RequireDigit = false;
                o.Lockout.MaxFailedAccessAttempts = 10;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                o.User.RequireUniqueEmail = false;
            })
            .AddEntityFrameworkStores<AccountsDbContext>()
            .AddDefaultTokenProviders()
            .AddClaimsPrincipalFactory<ReimageClaimsFactory>();
        builder.Services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/account/login";
            o.AccessDeniedPath = "/account/denied";
            o.Cookie.Name = "reimage";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(12);
            o.SlidingExpiration = true;
            o.Events.OnRedirectToLogin = context => Answer(context, StatusCodes.Status401Unauthorized);
            o.Events.OnRedirectToAccessDenied = context => Answer(context, StatusCodes.Status403Forbidden);
        });
        // A changed password, "sign out everywhere", a role, site or roster change and a lock move the person's security
        // stamp; every other session of theirs is refused within this interval (Reimage:Security:SessionRevalidation).
        builder.Services.Configure<SecurityStampValidatorOptions>(o =>
            o.ValidationInterval = builder.Configuration.GetValue("Reimage:Security:SessionRevalidation", TimeSpan.FromSeconds(10)));
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Lead, p => p.RequireRole(Roles.Lead, Roles.Admin))
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin))
            .AddPolicy(Policies.Technician, p => p.RequireRole(Roles.Technician, Roles.Lead, Roles.Admin))
            .AddPolicy(Policies.Executive, p => p.RequireRole(Roles.Executive, Roles.Lead, Roles.Admin))
            .AddPolicy(Policies.SignedIn, p => p.RequireAuthenticatedUser())
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        builder.Services.AddCascadingAuthenticationState();
        return builder;
    }

    /// <summary>APIs get a status code; pages get the redirect to sign in (or to "not allowed").</summary>
    private static Task Answer(Microsoft.AspNetCore.Authentication.RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> context, int status)
    {
        if (IsApi(context.Request.Path))
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        }

        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }

    internal static bool IsApi(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments("/agent") || path.StartsWithSegments("/phone-home") || path.StartsWithSegments("/hangfire");

    /// <summary>
    /// Someone signed in with a generated one-time password must choose their own before anything else: pages
    /// send them to the password page, APIs answer 403 saying so.
    /// </summary>
    public static WebApplication UsePasswordChangeGate(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (context.User.HasClaim(ReimageClaimsFactory.MustChangeClaim, "true") && !context.Request.Path.StartsWithSegments("/account")
                && !context.Request.Path.StartsWithSegments("/api/account") && !context.Request.Path.StartsWithSegments("/_framework")
                && !context.Request.Path.StartsWithSegments("/_blazor") && !Path.HasExtension(context.Request.Path.Value))
            {
                if (IsApi(context.Request.Path))
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    await context.Response.WriteAsJsonAsync(new { error = "choose your own password first (the one-time password only signs you in)" });
                    return;
                }

                context.Response.Redirect("/account/password");
                return;
            }

            await next();
        });
        return app;
    }
}
