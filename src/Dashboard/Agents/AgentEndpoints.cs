using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Reimage.Agents.Protocol;
using Reimage.Dashboard.Infrastructure;
using Reimage.Orchestrator.Agents;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Agents;

public sealed record TokenRequest(int? ValidHours, int? ValidDays = null);

/// <summary>Configuration section <c>Reimage:Agents</c>.</summary>
public sealed class AgentOptions
{
    public const string Section = "Reimage:Agents";

    /// <summary>
    /// How long a fetched command is the agent's; past it the command is offered again. The demo's in-process agents
    /// hold their commands as long.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Longest a fetch waits for work before answering empty.</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>Phone-home events accepted per token per minute (then 429 with Retry-After).</summary>
    public int PhoneHomePerMinute { get; set; } = 600;

    /// <summary>How long a new phone-home token is valid unless the lead asks for another lifetime (<c>validDays</c>).</summary>
    public TimeSpan PhoneHomeTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>An agent not heard from for this long is shown offline.</summary>
    public TimeSpan OfflineAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Enrolment attempts per client address per minute.</summary>
    public int EnrolPerMinute { get; set; } = 10;
}

/// <summary>
/// The agents' HTTPS API (<c>/agent/v1</c>): enrolment with a one-time token, long-poll fetch that leases commands of
/// the agent's own site, idempotent results, heartbeats and credential rotation; and the lead's side: enrolment
/// tokens, phone-home tokens, the agents list and revocation.
/// </summary>
public static class AgentEndpoints
{
    public const string EnrolLimit = "agent-enrol";
    public const string PhoneHomeLimit = "phone-home";

    public static WebApplicationBuilder AddAgentApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AgentOptions>().BindConfiguration(AgentOptions.Section)
            .Validate(o => o.Lease > TimeSpan.Zero, "Reimage:Agents:Lease must be positive.")
            .Validate(o => o.MaxWait >= TimeSpan.Zero, "Reimage:Agents:MaxWait must not be negative.")
            .Validate(o => o.PhoneHomePerMinute > 0, "Reimage:Agents:PhoneHomePerMinute must be at least 1.")
            .Validate(o => o.OfflineAfter > TimeSpan.Zero, "Reimage:Agents:OfflineAfter must be positive.")
            .Validate(o => o.EnrolPerMinute > 0, "Reimage:Agents:EnrolPerMinute must be at least 1.")
            .ValidateOnStart();
        builder.Services.AddAuthentication()
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, SiteCredentialHandler>(SiteCredentialHandler.AgentScheme, null)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, SiteCredentialHandler>(SiteCredentialHandler.PhoneHomeScheme, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Agent, p => p.AddAuthenticationSchemes(SiteCredentialHandler.AgentScheme).RequireClaim(SiteCredentialHandler.AgentClaim))
            .AddPolicy(Policies.PhoneHome, p => p.AddAuthenticationSchemes(SiteCredentialHandler.PhoneHomeScheme).RequireClaim(SiteCredentialHandler.SiteClaim));
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (context, _) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "60";
                return ValueTask.CompletedTask;
            };
        });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<AgentOptions>>((o, agents) =>
        {
            var limits = agents.Value;
            o.AddPolicy(EnrolLimit, http => RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "?",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = limits.EnrolPerMinute, Window = TimeSpan.FromMinutes(1) }));
            // Partitioned by the token's id (never its secret), so one chatty or replaying site cannot starve the others.
            o.AddPolicy(PhoneHomeLimit, http => RateLimitPartition.GetFixedWindowLimiter(TokenId(http),
                _ => new FixedWindowRateLimiterOptions { PermitLimit = limits.PhoneHomePerMinute, Window = TimeSpan.FromMinutes(1) }));
        });
        return builder;
    }

    private static string TokenId(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        var dot = header.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 ? header[..dot] : http.Connection.RemoteIpAddress?.ToString() ?? "?";
    }

    public static WebApplication MapAgentApi(this WebApplication app)
    {
        // The one anonymous agent call: the enrolment token in the body is the credential. Rate-limited per address.
        app.MapPost("/agent/v1/enrol", async (EnrolRequest body, AgentRegistry registry, ILogger<AgentRegistry> logger, CancellationToken ct) =>
        {
            var name = body.Name?.Trim();
            if (string.IsNullOrWhiteSpace(body.Token) || string.IsNullOrEmpty(name) || name.Length > 128 || body.Platform?.Length > 64)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["token"] = ["the one-time enrolment token and a name of 1 to 128 characters"] });
            }

            try
            {
                var (agent, credential) = await registry.EnrolAsync(body.Token.Trim(), name, body.Platform, ct);
                logger.LogInformation("Agent {Agent} ({AgentId}) enrolled for site {SiteId}", agent.Name, agent.AgentId, agent.SiteId);
                return Results.Ok(new EnrolResponse(agent.AgentId, agent.SiteId, credential));
            }
            catch (AgentAuthException e)
            {
                return Results.Json(new { error = e.Message }, statusCode: StatusCodes.Status401Unauthorized);
            }
        }).AllowAnonymous().RequireRateLimiting(EnrolLimit);

        var agent = app.MapGroup("/agent/v1").RequireAuthorization(Policies.Agent);
        agent.MapPost("/commands/lease", async (LeaseRequest body, ClaimsPrincipal user, AgentCommandQueue queue, IOptions<AgentOptions> options,
            TimeProvider clock, CancellationToken ct) =>
        {
            if (body.Max is < 1 or > 1000 || body.WaitSeconds < 0)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["max"] = ["between 1 and 1,000 (waitSeconds ≥ 0)"] });
            }

            var (site, agentId) = (SiteClaims.SiteOf(user), SiteClaims.AgentOf(user).ToString());
            var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(Math.Min(body.WaitSeconds, options.Value.MaxWait.TotalSeconds));
            while (true)
            {
                var leased = await queue.LeaseAsync(site, agentId, body.Max, options.Value.Lease, ct);
                if (leased.Count > 0 || clock.GetUtcNow() >= deadline)
                {
                    return Results.Ok(leased);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), clock, ct);
            }
        });
        agent.MapPost("/results", async (CommandResult[] results, ClaimsPrincipal user, AgentCommandQueue queue, WorkflowKick kick, CancellationToken ct) =>
        {
            if (results.Length > 5000)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["results"] = ["at most 5,000 results a call"] });
            }

            // Each result is accepted or refused on its own: one poison detail must not hold up its batch mates.
            var receipt = await queue.CompleteAsync(SiteClaims.SiteOf(user), results, ct);
            if (receipt.Recorded > 0)
            {
                kick.Kick();
            }

            return Results.Ok(receipt);
        });
        agent.MapPost("/heartbeat", async (Heartbeat body, ClaimsPrincipal user, AgentRegistry registry, CancellationToken ct) =>
        {
            await registry.HeartbeatAsync(SiteClaims.AgentOf(user), body.InFlight, body.Version?.Length > 64 ? body.Version[..64] : body.Version, ct);
            return Results.Ok(new { ok = true });
        });
        agent.MapPost("/credential/rotate", async (ClaimsPrincipal user, AgentRegistry registry, CancellationToken ct) =>
            Results.Ok(new CredentialRotated(await registry.RotateAsync(SiteClaims.AgentOf(user), ct))));

        var lead = app.MapGroup("/api").RequireAuthorization(Policies.Lead);
        lead.MapPost("/sites/{id:guid}/enrolment-tokens", (Guid id, TokenRequest? body, AgentRegistry registry, ClaimsPrincipal user, CancellationToken ct) =>
            IssueAsync(registry, id, TokenPurpose.Enrolment, user, TimeSpan.FromHours(Math.Clamp(body?.ValidHours ?? 24, 1, 24 * 14)), ct));
        lead.MapPost("/sites/{id:guid}/phone-home-tokens", (Guid id, TokenRequest? body, AgentRegistry registry, IOptions<AgentOptions> options, ClaimsPrincipal user, CancellationToken ct) =>
            IssueAsync(registry, id, TokenPurpose.PhoneHome, user,
                body?.ValidDays is { } days ? TimeSpan.FromDays(Math.Clamp(days, 1, 366)) : options.Value.PhoneHomeTokenLifetime, ct));
        // Every site's tokens (never a secret), and revoking one: ?confirm=<its site code> says which site's task sequences or agents stop.
        lead.MapGet("/tokens", (AgentRegistry registry, CancellationToken ct) => registry.ListTokensAsync(ct));
        lead.MapPost("/tokens/{id:guid}/revoke", async (Guid id, string? confirm, AgentRegistry registry, ClaimsPrincipal user, CancellationToken ct) =>
        {
            var token = (await registry.ListTokensAsync(ct)).FirstOrDefault(t => t.Id == id && t.RevokedAt is null);
            if (token is null)
            {
                return Results.NotFound(new { error = $"no live token {id}" });
            }

            if (!string.Equals(confirm?.Trim(), token.SiteCode, StringComparison.OrdinalIgnoreCase))
            {
                return Results.Problem(title: $"Revoking this {token.Purpose} token of {token.SiteCode} stops {(token.Purpose == TokenPurpose.PhoneHome ? "every task sequence that uses it" : "enrolment with it")}: confirm with ?confirm={token.SiteCode}",
                    statusCode: confirm is null ? StatusCodes.Status428PreconditionRequired : StatusCodes.Status409Conflict);
            }

            return await registry.RevokeTokenAsync(id, user.Identity?.Name ?? "unknown", ct) ? Results.Ok(new { token = id, result = "revoked" }) : Results.NotFound(new { error = $"no live token {id}" });
        });
        lead.MapGet("/agents", (AgentRegistry registry, IOptions<AgentOptions> options, CancellationToken ct) =>
            registry.ListAsync(options.Value.OfflineAfter, ct));
        // Destructive: the request names the agent it revokes (?confirm=<its name>), so a stale or mistyped id revokes nothing.
        lead.MapPost("/agents/{id:guid}/revoke", async (Guid id, string? confirm, AgentRegistry registry, IOptions<AgentOptions> options, ClaimsPrincipal user, CancellationToken ct) =>
        {
            var agent = (await registry.ListAsync(options.Value.OfflineAfter, ct)).FirstOrDefault(a => a.Id == id && a.RevokedAt is null);
            if (agent is null)
            {
                return Results.NotFound(new { error = $"no active agent {id}" });
            }

            if (confirm is null)
            {
                return Results.Problem(title: $"Revoking agent {agent.Name} ({agent.SiteCode}, {agent.InFlight} command(s) in flight) stops it for good: confirm with ?confirm={agent.Name}",
                    statusCode: StatusCodes.Status428PreconditionRequired);
            }

            if (!string.Equals(confirm.Trim(), agent.Name, StringComparison.Ordinal))
            {
                return Results.Conflict(new { error = $"confirm names '{confirm.Trim()}', but agent {id} is '{agent.Name}': nothing was revoked" });
            }

            return await registry.RevokeAsync(id, user.Identity?.Name ?? "unknown", ct) ? Results.Ok(new { agent = id, result = "revoked" })
                : Results.NotFound(new { error = $"no active agent {id}" });
        });
        return app;
    }

    private static async Task<IResult> IssueAsync(AgentRegistry registry, Guid site, TokenPurpose purpose, ClaimsPrincipal user, TimeSpan? lifetime, CancellationToken ct)
    {
        try
        {
            var (token, expires) = await registry.IssueTokenAsync(site, purpose, user.Identity?.Name ?? "unknown", lifetime, ct);
            // Shown once: only its hash is kept.
            return Results.Json(new { token, expiresAt = expires, purpose = purpose.ToString() }, statusCode: StatusCodes.Status201Created);
        }
        catch (AgentAuthException e)
        {
            return Results.NotFound(new { error = e.Message });
        }
    }
}
