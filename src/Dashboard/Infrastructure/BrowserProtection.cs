using Microsoft.Net.Http.Headers;

namespace Reimage.Dashboard.Infrastructure;

/// <summary>
/// What a browser is told and what it may do here. Every answer carries a Content-Security-Policy that the pages,
/// Blazor's circuit, Plotly and the Hangfire Dashboard live with (scripts only from this origin, no framing by anyone,
/// no plugins), <c>nosniff</c>, a same-origin referrer policy and a permissions policy; HTTPS answers carry HSTS
/// (Production). And no state-changing request that a browser sends from another origin is carried out: a cookie
/// alone is not enough, because SameSite=Strict does not separate this origin from another one on the same site
/// (a sibling subdomain) and does not cover older browsers.
/// </summary>
public static class BrowserProtection
{
    /// <summary>The one cross-origin POST that is expected: the identity provider's answer to a single sign-on.</summary>
    private static readonly PathString[] CrossOriginAllowed = ["/signin-oidc"];

    public static WebApplicationBuilder AddBrowserProtection(this WebApplicationBuilder builder)
    {
        builder.Services.AddHsts(o =>
        {
            o.MaxAge = TimeSpan.FromDays(365);
            o.IncludeSubDomains = false; // other services of the organisation's domain may not have HTTPS yet
            o.ExcludedHosts.Clear(); // an installation reached by its IP address is still HTTPS-only once it has been
        });
        return builder;
    }

    public static WebApplication UseBrowserProtection(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        var authority = app.Configuration["Reimage:Security:OpenIdConnect:Authority"] is { Length: > 0 } configured
            && Uri.TryCreate(configured, UriKind.Absolute, out var uri) ? $" {uri.GetLeftPart(UriPartial.Authority)}" : "";
        var policy = string.Join("; ",
            "default-src 'self'",
            "script-src 'self'",
            // Blazor and Plotly set style attributes; styles cannot run code.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
            $"form-action 'self'{authority}");

        app.Use(async (context, next) =>
        {
            if (IsUnsafe(context.Request.Method) && IsCrossOrigin(context.Request) && !CrossOriginAllowed.Any(p => context.Request.Path.StartsWithSegments(p)))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsJsonAsync(new
                {
                    title = "Refused: this request was sent by a page of another origin",
                    detail = "Changes are accepted only from Reimage's own pages, or from clients that are not browsers.",
                    status = 403,
                }, context.RequestAborted);
                return;
            }

            var headers = context.Response.Headers;
            headers[HeaderNames.ContentSecurityPolicy] = policy;
            headers[HeaderNames.XContentTypeOptions] = "nosniff";
            headers[HeaderNames.XFrameOptions] = "DENY";
            headers["Referrer-Policy"] = "same-origin";
            headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=(), payment=()";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            await next(context);
        });
        return app;
    }

    private static bool IsUnsafe(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));

    /// <summary>
    /// Fetch Metadata first (every current browser sends <c>Sec-Fetch-Site</c>: <c>same-origin</c> from our pages,
    /// <c>none</c> when the person typed or bookmarked it); else the <c>Origin</c> header, against the host asked for;
    /// a request with neither is not from a browser page (scripts, agents, task sequences) and is let through.
    /// </summary>
    internal static bool IsCrossOrigin(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0)
        {
            return site is not ("same-origin" or "none");
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return false;
        }

        return origin == "null" || !Uri.TryCreate(origin, UriKind.Absolute, out var from)
            || !string.Equals(from.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
