using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Reimage.Dashboard.Infrastructure;

/// <summary>
/// Behind a reverse proxy or load balancer, every caller looks like the proxy: the audit's "from where" and the
/// per-address sign-in and phone-home limits would all see one address. <c>Reimage:Network:TrustedProxies</c> lists the
/// proxies (addresses or CIDR networks) whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed, one hop
/// each; a header from anyone else changes nothing. Empty (the default): no proxy header is trusted at all.
/// </summary>
public static class TrustedProxies
{
    public const string Section = "Reimage:Network:TrustedProxies";

    public static WebApplicationBuilder AddTrustedProxies(this WebApplicationBuilder builder)
    {
        var configured = builder.Configuration.GetSection(Section).Get<string[]>() ?? [];
        var networks = new List<System.Net.IPNetwork>();
        foreach (var entry in configured.Where(e => !string.IsNullOrWhiteSpace(e)).Select(e => e.Trim()))
        {
            if (System.Net.IPNetwork.TryParse(entry.Contains('/') ? entry : $"{entry}/{(entry.Contains(':') ? 128 : 32)}", out var network))
            {
                networks.Add(network);
            }
            else
            {
                throw new InvalidOperationException($"{Section.Replace(':', '_')} entry '{entry}' is neither an IP address nor a CIDR network (e.g. 10.0.0.5 or 10.0.0.0/24).");
            }
        }

        builder.Services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = networks.Count == 0 ? ForwardedHeaders.None : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.ForwardLimit = 1;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var network in networks)
            {
                o.KnownIPNetworks.Add(network);
            }
        });
        return builder;
    }

    public static WebApplication UseTrustedProxies(this WebApplication app)
    {
        app.UseForwardedHeaders();
        return app;
    }
}
