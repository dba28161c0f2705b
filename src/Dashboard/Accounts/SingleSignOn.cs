using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Reimage.Dashboard.Infrastructure;

namespace Reimage.Dashboard.Accounts;

/// <summary>
/// <c>Reimage:Security:OpenIdConnect</c>: single sign-on through the organisation's identity provider, off unless
/// <see cref="Authority"/> is set. The provider decides who is who: its role claim names Reimage roles (directly, or
/// through <see cref="RoleMap"/>), its site claim a technician's sites. The client secret belongs in the environment
/// or a secret store (<c>Reimage__Security__OpenIdConnect__ClientSecret</c>), never in appsettings.
/// </summary>
public sealed class SingleSignOnOptions
{
    public const string Section = "Reimage:Security:OpenIdConnect";
    public const string Scheme = "oidc";

    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>The claim carrying roles or groups (Entra ID and Keycloak: <c>roles</c>; Okta often <c>groups</c>).</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>The claim carrying a technician's site codes (one value per site, or comma-separated).</summary>
    public string SiteClaim { get; set; } = "reimage_sites";

    /// <summary>Provider role or group name → Reimage role; names equal to a Reimage role need no entry.</summary>
    public Dictionary<string, string> RoleMap { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Only for a provider on plain HTTP in a lab; never in production.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority);

    /// <summary>The Reimage roles and sites the provider's claims grant; no role means no way in.</summary>
    public (IReadOnlyList<string> Roles, IReadOnlyList<string> Sites) Map(ClaimsPrincipal external)
    {
        var roles = external.FindAll(RoleClaim).Select(c => c.Value)
            .Select(v => RoleMap.TryGetValue(v, out var mapped) ? mapped : v)
            .Select(v => Accounts.Roles.All.FirstOrDefault(r => string.Equals(r, v, StringComparison.OrdinalIgnoreCase)))
            .OfType<string>().Distinct().Order().ToList();
        var sites = external.FindAll(SiteClaim).SelectMany(c => c.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(s => s.ToUpperInvariant()).Distinct().Order().ToList();
        return (roles, sites);
    }
}

public static class SingleSignOn
{
    public static WebApplicationBuilder AddSingleSignOn(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(SingleSignOnOptions.Section).Get<SingleSignOnOptions>() ?? new();
        builder.Services.AddSingleton(options);
        if (!options.Enabled)
        {
            return builder;
        }

        if (string.IsNullOrWhiteSpace(options.ClientId))
        {
            throw new InvalidOperationException($"{SingleSignOnOptions.Section}:ClientId is required when {SingleSignOnOptions.Section}:Authority is set.");
        }

        builder.Services.AddAuthentication().AddOpenIdConnect(SingleSignOnOptions.Scheme, "Single sign-on", o =>
        {
            o.Authority = options.Authority;
            o.ClientId = options.ClientId;
            o.ClientSecret = options.ClientSecret;
            o.ResponseType = "code";
            o.UsePkce = true;
            o.SignInScheme = IdentityConstants.ExternalScheme;
            o.CallbackPath = "/signin-oidc";
            o.MapInboundClaims = false;
            o.SaveTokens = false;
            o.RequireHttpsMetadata = options.RequireHttpsMetadata;
            o.Scope.Clear();
            o.Scope.Add("openid");
            o.Scope.Add("profile");
        });
        return builder;
    }

    /// <summary>
    /// <c>GET /account/sso</c> starts single sign-on; <c>GET /account/sso/done</c> finishes it: the provider's user is
    /// found by their subject (or created, without a password), given exactly the roles and sites the provider grants
    /// at this sign-in, and signed in with the same cookie as a password sign-in.
    /// </summary>
    public static WebApplication MapSingleSignOn(this WebApplication app)
    {
        app.MapGet("/account/sso", (SingleSignOnOptions options, SignInManager<ReimageUser> signIn) => !options.Enabled
                ? Results.NotFound()
                : Results.Challenge(signIn.ConfigureExternalAuthenticationProperties(SingleSignOnOptions.Scheme, "/account/sso/done"), [SingleSignOnOptions.Scheme]))
            .AllowAnonymous();
        app.MapGet("/account/sso/done", async (SingleSignOnOptions options, SignInManager<ReimageUser> signIn, UserManager<ReimageUser> users, ILogger<SingleSignOnOptions> logger) =>
        {
            var external = await signIn.GetExternalLoginInfoAsync();
            if (!options.Enabled || external is null)
            {
                return Results.Redirect("/account/login");
            }

            await signIn.Context.SignOutAsync(IdentityConstants.ExternalScheme);
            var (roles, sites) = options.Map(external.Principal);
            if (roles.Count == 0)
            {
                logger.LogWarning("Single sign-on refused for subject {Subject}: the provider grants no Reimage role", external.ProviderKey);
                return Results.Redirect("/account/denied");
            }

            var user = await users.FindByLoginAsync(external.LoginProvider, external.ProviderKey);
            if (user is null)
            {
                var name = external.Principal.FindFirstValue("preferred_username") ?? external.Principal.FindFirstValue("email") ?? external.ProviderKey;
                user = new ReimageUser { UserName = await FreeNameAsync(users, name), DisplayName = external.Principal.FindFirstValue("name") };
                AccountSetup.Check(await users.CreateAsync(user));
                AccountSetup.Check(await users.AddLoginAsync(user, external));
            }

            var current = await users.GetRolesAsync(user);
            var changed = !current.ToHashSet().SetEquals(roles) || !user.SiteCodes.ToHashSet(StringComparer.OrdinalIgnoreCase).SetEquals(sites);
            user.SiteCodes = [.. sites];
            AccountSetup.Check(await users.UpdateAsync(user));
            AccountSetup.Check(await users.RemoveFromRolesAsync(user, current.Except(roles)));
            AccountSetup.Check(await users.AddToRolesAsync(user, roles.Except(current)));
            if (changed)
            {
                // The provider changed their roles or sites: their sessions elsewhere end (this new one carries the new stamp).
                await users.UpdateSecurityStampAsync(user);
            }

            await signIn.SignInAsync(user, isPersistent: false, SingleSignOnOptions.Scheme);
            logger.LogInformation("{User} signed in through single sign-on as {Roles}", user.UserName, string.Join(", ", roles));
            return Results.Redirect(Roles.Home(roles));
        }).AllowAnonymous();
        return app;
    }

    private static async Task<string> FreeNameAsync(UserManager<ReimageUser> users, string wanted)
    {
        var name = new string(wanted.Where(c => char.IsLetterOrDigit(c) || c is '-' or '.' or '_' or '@' or '+').Take(60).ToArray());
        name = name.Length == 0 ? "sso-user" : name;
        for (var (candidate, n) = (name, 2); ; (candidate, n) = ($"{name}-{n}", n + 1))
        {
            if (await users.FindByNameAsync(candidate) is null)
            {
                return candidate;
            }
        }
    }
}
