using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Reimage.Dashboard.Accounts;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Accounts;

/// <summary>
/// OpenID Connect against a small identity provider on real loopback HTTP: discovery, PKCE authorization code, a
/// signed ID token; the provider's role and site claims become the Reimage user's roles and sites.
/// </summary>
[Collection("Hangfire")]
public sealed class SingleSignOnTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void ProviderClaims_MapToReimageRolesAndSites_UnknownRolesAreIgnored()
    {
        var options = new SingleSignOnOptions { Authority = "https://idp", RoleClaim = "groups", RoleMap = { ["it-recovery-leads"] = "Lead" } };
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [new("groups", "it-recovery-leads"), new("groups", "technician"), new("groups", "finance"), new("reimage_sites", "dha, rtn"), new("reimage_sites", "JED")]));

        var (roles, sites) = options.Map(principal);

        Assert.Equal(["Lead", "Technician"], roles);
        Assert.Equal(["DHA", "JED", "RTN"], sites);
        Assert.Empty(options.Map(new ClaimsPrincipal(new ClaimsIdentity([new("groups", "finance")]))).Roles);
    }

    [Fact]
    public async Task ALeadSignsInThroughTheProvider_GetsTheRolesItGrants_AndSomeoneWithoutARoleIsTurnedAway()
    {
        await using var idp = await TinyProvider.StartAsync();
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync(), settings: new Dictionary<string, string>
        {
            ["Reimage:Security:OpenIdConnect:Authority"] = idp.Url,
            ["Reimage:Security:OpenIdConnect:ClientId"] = "reimage",
            ["Reimage:Security:OpenIdConnect:ClientSecret"] = "not-a-real-secret",
            ["Reimage:Security:OpenIdConnect:RequireHttpsMetadata"] = "false",
        });
        var baseUrl = app.StartOnLoopback();

        idp.Next = ("sub-7f3a", "r.okafor", ["Lead"], []);
        var (landing, cookies) = await SignInAsync(baseUrl, idp);
        Assert.Equal("/", landing);
        using var http = new HttpClient();
        using var waves = new HttpRequestMessage(HttpMethod.Get, baseUrl + "/api/waves");
        waves.Headers.Add("Cookie", cookies);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(waves, Ct)).StatusCode);

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ReimageUser>>();
            var user = (await users.FindByLoginAsync(SingleSignOnOptions.Scheme, "sub-7f3a"))!;
            Assert.Equal("r.okafor", user.UserName);
            Assert.Equal(["Lead"], await users.GetRolesAsync(user));
            Assert.False(await users.HasPasswordAsync(user)); // the provider holds the credential
        }

        // The provider is the source of truth: next time it says technician at DHA, that is what they are.
        idp.Next = ("sub-7f3a", "r.okafor", ["Technician"], ["dha"]);
        Assert.Equal("/tech", (await SignInAsync(baseUrl, idp)).Landing);
        idp.Next = ("sub-0000", "visitor", ["finance"], []);
        Assert.Equal("/account/denied", (await SignInAsync(baseUrl, idp)).Landing);
    }

    /// <summary>What a browser does: follow the challenge to the provider, come back with a code, land signed in.</summary>
    private static async Task<(string Landing, string Cookies)> SignInAsync(string baseUrl, TinyProvider idp)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });
        var jar = new Dictionary<string, string>();
        async Task<HttpResponseMessage> GetAsync(string url)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (jar.Count > 0)
            {
                request.Headers.Add("Cookie", string.Join("; ", jar.Select(c => $"{c.Key}={c.Value}")));
            }

            var response = await http.SendAsync(request, Ct);
            foreach (var set in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
            {
                var pair = set.Split(';')[0].Split('=', 2);
                jar[pair[0]] = pair[1];
            }

            return response;
        }

        var challenge = await GetAsync(baseUrl + "/account/sso");
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        var authorize = challenge.Headers.Location!;
        Assert.StartsWith(idp.Url + "/authorize", authorize.ToString(), StringComparison.Ordinal);
        var query = HttpUtility.ParseQueryString(authorize.Query);
        Assert.Equal(("reimage", "code", "S256"), (query["client_id"], query["response_type"], query["code_challenge_method"]));
        var code = idp.Authorize(query["nonce"]!, query["code_challenge"]!);

        var callback = await GetAsync($"{query["redirect_uri"]}?code={code}&state={Uri.EscapeDataString(query["state"]!)}");
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        var done = await GetAsync(new Uri(new Uri(baseUrl), callback.Headers.Location!).ToString());
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        return (done.Headers.Location!.OriginalString, string.Join("; ", jar.Where(c => c.Key == "reimage").Select(c => $"{c.Key}={c.Value}")));
    }

    /// <summary>The smallest OpenID provider that the real OpenID Connect handler accepts: discovery, keys, token endpoint.</summary>
    private sealed class TinyProvider : IAsyncDisposable
    {
        private static readonly string[] Code = ["code"], Public = ["public"], Rs256 = ["RS256"];
        private readonly RSA _rsa = RSA.Create(2048);
        private readonly Dictionary<string, (string Nonce, string Challenge, (string Sub, string Name, string[] Roles, string[] Sites) Who)> _codes = [];
        private WebApplication? _web;

        public string Url { get; private set; } = "";

        public (string Sub, string Name, string[] Roles, string[] Sites) Next { get; set; }

        public static async Task<TinyProvider> StartAsync()
        {
            var provider = new TinyProvider();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var web = builder.Build();
            var key = new RsaSecurityKey(provider._rsa) { KeyId = "k1" };
            web.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = provider.Url, ["authorization_endpoint"] = provider.Url + "/authorize", ["token_endpoint"] = provider.Url + "/token",
                ["jwks_uri"] = provider.Url + "/jwks", ["response_types_supported"] = Code, ["subject_types_supported"] = Public,
                ["id_token_signing_alg_values_supported"] = Rs256,
            }));
            web.MapGet("/jwks", () =>
            {
                var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(key);
                return Results.Json(new { keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = jwk.Kid, n = jwk.N, e = jwk.E } } });
            });
            web.MapPost("/token", async (HttpRequest request) =>
            {
                var form = await request.ReadFormAsync();
                if (!provider._codes.Remove(form["code"].ToString(), out var grant)
                    || Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != grant.Challenge)
                {
                    return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
                }

                var claims = new Dictionary<string, object>
                {
                    ["sub"] = grant.Who.Sub, ["preferred_username"] = grant.Who.Name, ["nonce"] = grant.Nonce,
                    ["roles"] = grant.Who.Roles, ["reimage_sites"] = grant.Who.Sites,
                };
                var idToken = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
                {
                    Issuer = provider.Url, Audience = "reimage", Claims = claims, IssuedAt = DateTime.UtcNow, Expires = DateTime.UtcNow.AddMinutes(5),
                    SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
                });
                return Results.Json(new { access_token = "opaque", token_type = "Bearer", expires_in = 300, id_token = idToken });
            });
            await web.StartAsync();
            provider._web = web;
            provider.Url = web.Urls.First();
            return provider;
        }

        /// <summary>The user "logs in" at the provider: a one-time code bound to the request's nonce and PKCE challenge.</summary>
        public string Authorize(string nonce, string challenge)
        {
            var code = Guid.NewGuid().ToString("N");
            _codes[code] = (nonce, challenge, Next);
            return code;
        }

        public async ValueTask DisposeAsync()
        {
            if (_web is not null)
            {
                await _web.DisposeAsync();
            }

            _rsa.Dispose();
        }
    }
}
