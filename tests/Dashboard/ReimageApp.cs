using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Reimage.Dashboard.Tests;

/// <summary>
/// The whole Dashboard (with its Hangfire server) on a test's own database. Requests "from this machine"
/// (<see cref="IPAddress.Loopback"/>) are signed in as the admin (who has every lead right), through the real
/// sign-in endpoint and cookie; requests from <see cref="Remote"/> carry no cookie.
/// </summary>
public class ReimageApp(string connectionString, string environment = "Development", IReadOnlyDictionary<string, string>? settings = null) : WebApplicationFactory<Program>
{
    public static readonly IPAddress Remote = IPAddress.Parse("10.20.30.40");

    /// <summary>The first admin's password, from configuration (so it is not a one-time password).</summary>
    public const string AdminPassword = "test-admin-password-2026";

    private readonly Dictionary<string, string> _cookies = [];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        builder.UseSetting("ConnectionStrings:Reimage", connectionString);
        builder.UseSetting("Reimage:Security:InitialAdminPassword", AdminPassword);
        builder.UseSetting("Reimage:Workflow:RetryBackoff", "00:00:00");
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>Starts the app on Kestrel on a free loopback port (for a real browser or HTTP client); returns its base URL.</summary>
    public string StartOnLoopback()
    {
        UseKestrel(0);
        StartServer();
        return Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
            .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
    }

    /// <summary>Adds a person who signs in with <paramref name="password"/> (no forced change), linked to a roster entry if given.</summary>
    public async Task AddUserAsync(string name, string role, string[] sites, string password, Guid? technician = null, string? displayName = null)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Reimage.Dashboard.Accounts.ReimageUser>>();
        var user = await Reimage.Dashboard.Accounts.AccountSetup.CreateAsync(users, name, displayName, role, sites, password, mustChange: false);
        if (technician is { } id)
        {
            await users.AddClaimAsync(user, new System.Security.Claims.Claim(Reimage.Dashboard.Accounts.ReimageClaimsFactory.TechnicianClaim, id.ToString()));
        }
    }

    /// <summary>Signs <paramref name="user"/> in through <c>POST /api/account/login</c> and returns the cookie to send.</summary>
    public async Task<string> CookieAsync(string user = "admin", string password = AdminPassword)
    {
        if (_cookies.TryGetValue(user, out var known))
        {
            return known;
        }

        return _cookies[user] = await NewSessionAsync(user, password);
    }

    /// <summary>Signs <paramref name="user"/> in afresh (another device: a session of its own) and returns its cookie.</summary>
    public async Task<string> NewSessionAsync(string user, string password)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new { userName = user, password });
        var context = await Server.SendAsync(c =>
        {
            c.Request.Method = "POST";
            c.Request.Path = "/api/account/login";
            c.Connection.RemoteIpAddress = IPAddress.Loopback;
            c.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
            c.Request.ContentType = "application/json";
            c.Request.ContentLength = json.Length;
            c.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>(new HasBody(true));
        });
        if (context.Response.StatusCode != 200)
        {
            throw new InvalidOperationException($"{user} could not sign in: {context.Response.StatusCode}");
        }

        return context.Response.Headers.SetCookie.Select(c => c!.Split(';')[0]).Single(c => c.StartsWith("reimage=", StringComparison.Ordinal));
    }

    /// <summary>Sends a request as if from <paramref name="from"/> (the test server has no real socket); from loopback, signed in as the admin.</summary>
    public async Task<(int Status, string Body)> SendAsync(string method, string path, IPAddress from, Action<HttpContext>? configure = null, string? body = null, string? asUser = null)
    {
        var (status, bytes) = await SendForBytesAsync(method, path, from, configure, body, asUser);
        using var reader = new StreamReader(new MemoryStream(bytes));
        return (status, await reader.ReadToEndAsync());
    }

    /// <summary>As <see cref="SendAsync"/>, with the response body's bytes as sent (a byte-order mark included).</summary>
    public async Task<(int Status, byte[] Body)> SendForBytesAsync(string method, string path, IPAddress from, Action<HttpContext>? configure = null, string? body = null, string? asUser = null)
    {
        var cookie = asUser is not null ? _cookies[asUser] : IPAddress.IsLoopback(from) ? await CookieAsync() : null;
        var context = await Server.SendAsync(c =>
        {
            c.Request.Method = method;
            var query = path.IndexOf('?', StringComparison.Ordinal);
            c.Request.Path = query < 0 ? path : path[..query];
            c.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(path[query..]);
            c.Connection.RemoteIpAddress = from;
            if (cookie is not null)
            {
                c.Request.Headers.Cookie = cookie;
            }

            if (body is not null)
            {
                c.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body));
                c.Request.ContentType = "text/csv";
            }

            configure?.Invoke(c);
        });
        var response = new MemoryStream();
        await context.Response.Body.CopyToAsync(response);
        return (context.Response.StatusCode, response.ToArray());
    }

    /// <summary>Sends <paramref name="json"/> as the body, from this machine, with any extra headers.</summary>
    /// <remarks>
    /// <paramref name="bearer"/> sends a site credential; <paramref name="anonymous"/> sends from a remote address, so the
    /// local operator (loopback) does not sign the request in.
    /// </remarks>
    public Task<(int Status, string Body)> SendJsonAsync(string method, string path, string json, IReadOnlyDictionary<string, string>? headers = null,
        string? bearer = null, bool anonymous = false, string? asUser = null) =>
        SendAsync(method, path, anonymous || bearer is not null ? Remote : IPAddress.Loopback, asUser: asUser, configure: c =>
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
    /// <summary>Sends <paramref name="body"/> bytes as they are, with any content type (or none), from <paramref name="from"/>.</summary>
    public Task<(int Status, string Body)> SendRawAsync(string method, string path, IPAddress from, byte[] body, string? contentType, string? bearer = null) =>
        SendAsync(method, path, from, configure: c =>
        {
            c.Request.Body = new MemoryStream(body);
            c.Request.ContentType = contentType;
            c.Request.ContentLength = body.Length;
            c.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>(new HasBody(body.Length > 0));
            if (bearer is not null)
            {
                c.Request.Headers.Authorization = "Bearer " + bearer;
            }
        });

    internal sealed class HasBody(bool canHaveBody) : Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody { get; } = canHaveBody;
    }
}
