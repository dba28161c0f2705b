using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Reimage.Orchestrator.Agents;

namespace Reimage.Dashboard.Agents;

/// <summary>
/// Site agents authenticate every call with <c>Authorization: Bearer rag_…</c> (their enrolled credential); task
/// sequences with a site's phone-home token <c>Bearer rph_…</c>. Either way the principal carries its site, and the
/// endpoints take the site from the principal only, never from the request.
/// </summary>
internal sealed class SiteCredentialHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AgentRegistry registry)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string AgentScheme = "Agent";
    public const string PhoneHomeScheme = "PhoneHome";
    public const string SiteClaim = "reimage:site";
    public const string AgentClaim = "reimage:agent";
    public const string TokenClaim = "reimage:token";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return AuthenticateResult.NoResult();
        }

        var credential = header["Bearer ".Length..].Trim();
        if (Scheme.Name == AgentScheme)
        {
            var agent = await registry.AuthenticateAsync(credential, Context.RequestAborted);
            return agent is null
                ? AuthenticateResult.Fail("unknown, revoked or mistyped agent credential")
                : Success([new Claim(ClaimTypes.Name, $"agent:{agent.Name}"), new Claim(AgentClaim, agent.AgentId.ToString()), new Claim(SiteClaim, agent.SiteId.ToString())]);
        }

        var phoneHome = await registry.AuthenticatePhoneHomeAsync(credential, Context.RequestAborted);
        return phoneHome is not { } token
            ? AuthenticateResult.Fail("unknown, revoked or expired phone-home token")
            : Success([new Claim(ClaimTypes.Name, "phone-home"), new Claim(SiteClaim, token.SiteId.ToString()), new Claim(TokenClaim, token.TokenId.ToString())]);
    }

    private AuthenticateResult Success(Claim[] claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name)), Scheme.Name));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await Response.WriteAsJsonAsync(new { error = "a valid site credential is required (Authorization: Bearer …)" });
    }
}

internal static class SiteClaims
{
    public static Guid SiteOf(ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(SiteCredentialHandler.SiteClaim)!);

    public static Guid AgentOf(ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(SiteCredentialHandler.AgentClaim)!);

    public static Guid? TokenOf(ClaimsPrincipal user) => Guid.TryParse(user.FindFirstValue(SiteCredentialHandler.TokenClaim), out var id) ? id : null;
}
