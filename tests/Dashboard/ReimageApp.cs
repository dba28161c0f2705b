using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;

namespace Reimage.Dashboard.Tests;

/// <summary>The whole Dashboard (with its Hangfire server) on a test's own database.</summary>
public class ReimageApp(string connectionString, string environment = "Development") : WebApplicationFactory<Program>
{
    public static readonly IPAddress Remote = IPAddress.Parse("10.20.30.40");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        builder.UseSetting("ConnectionStrings:Reimage", connectionString);
        builder.UseSetting("Reimage:Workflow:RetryBackoff", "00:00:00");
    }

    /// <summary>Sends a request as if from <paramref name="from"/> (the test server has no real socket).</summary>
    public async Task<(int Status, string Body)> SendAsync(string method, string path, IPAddress from, Action<HttpContext>? configure = null, string? body = null)
    {
        var context = await Server.SendAsync(c =>
        {
            c.Request.Method = method;
            var query = path.IndexOf('?', StringComparison.Ordinal);
            c.Request.Path = query < 0 ? path : path[..query];
            c.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(path[query..]);
            c.Connection.RemoteIpAddress = from;
            if (body is not null)
            {
                c.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body));
                c.Request.ContentType = "text/csv";
            }

            configure?.Invoke(c);
        });
        using var reader = new StreamReader(context.Response.Body);
        return (context.Response.StatusCode, await reader.ReadToEndAsync());
    }

    /// <summary>Sends <paramref name="json"/> as the body, from this machine, with any extra headers.</summary>
    /// <remarks>
    /// <paramref name="bearer"/> sends a site credential; <paramref name="anonymous"/> sends from a remote address, so the
    /// local operator (loopback) does not sign the request in.
    /// </remarks>
    public Task<(int Status, string Body)> SendJsonAsync(string method, string path, string json, IReadOnlyDictionary<string, string>? headers = null,
        string? bearer = null, bool anonymous = false) =>
        SendAsync(method, path, anonymous || bearer is not null ? Remote : IPAddress.Loopback, c =>
        {
            c.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
            c.Request.ContentType = json.Length == 0 ? null : "application/json";
            c.Request.ContentLength = json.Length;
            c.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>(new HasBody(json.Length > 0));
            if (bearer is not null)
            {
                c.Request.Headers.Authorization = "Bearer " + bearer;
            }

            foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            {
                c.Request.Headers[name] = value;
            }
        });

    /// <summary>The test server decides "no body" before the request is filled in; this says there is one.</summary>
    private sealed class HasBody(bool canHaveBody) : Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody { get; } = canHaveBody;
    }
}
