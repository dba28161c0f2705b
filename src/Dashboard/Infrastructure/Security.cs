using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Reimage.Dashboard.Infrastructure;

/// <summary>The authorization policies every endpoint and page names explicitly.</summary>
public static class Policies
{
    /// <summary>Recovery leads (and admins): plan, import, operate.</summary>
    public const string Lead = "Lead";

    /// <summary>An enrolled site agent, scoped to its own site.</summary>
    public const string Agent = "Agent";

    /// <summary>An imaging task sequence holding its site's phone-home token.</summary>
    public const string PhoneHome = "PhoneHome";
}

public static class Security
{
    /// <summary>
    /// Until sign-in exists (the dashboard issue), Reimage trusts only requests from this machine: the
    /// <see cref="LocalOperatorHandler"/> signs in loopback callers as the local operator with the Lead role,
    /// and everyone else is turned away with 401. No proxy header is honoured, so a spoofed
    /// X-Forwarded-For cannot pass for local.
    /// </summary>
    public static WebApplicationBuilder AddDashboardSecurity(this WebApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(LocalOperatorHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, LocalOperatorHandler>(LocalOperatorHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Lead, p => p.RequireAuthenticatedUser().RequireRole("Lead", "Admin"))
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireRole("Lead", "Admin").Build());
        builder.Services.AddCascadingAuthenticationState();
        return builder;
    }
}

internal sealed class LocalOperatorHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "LocalOperator";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var remote = Context.Connection.RemoteIpAddress;
        if (remote is null || !IPAddress.IsLoopback(remote))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, "local-operator"), new Claim(ClaimTypes.Role, "Lead")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        await Response.WriteAsync("Reimage answers only requests from this machine until sign-in is configured.");
    }
}
