using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Reimage.Agents.Tests.Drivers;

/// <summary>One computer system behind the fake BMC; <see cref="Path"/> is its <c>@odata.id</c>.</summary>
public sealed record FakeSystem(string Path, string Id, string HostName, string PowerState = "On", string? SerialNumber = null, IReadOnlyList<string>? Macs = null);

/// <summary>How a vendor's Redfish service is laid out and what it allows: the driver must cope with all of them.</summary>
public sealed record BmcFlavour
{
    public string Username { get; init; } = "root";
    public string Password { get; init; } = "s3cret-Pa55word!";
    public bool HasSessionService { get; init; } = true;

    /// <summary>Links.Sessions in the service root; without it the driver must go through SessionService.</summary>
    public bool SessionsInLinks { get; init; } = true;

    public string SessionsPath { get; init; } = "/redfish/v1/SessionService/Sessions";

    /// <summary>Some BMCs (HPE) answer the login with an absolute Location naming a host other than the one dialled.</summary>
    public string? LocationHost { get; init; }

    public string SystemsPath { get; init; } = "/redfish/v1/Systems";
    public IReadOnlyList<FakeSystem> Systems { get; init; } = [];

    /// <summary>Null: the Reset action does not say which ResetTypes it takes.</summary>
    public IReadOnlyList<string>? ResetTypes { get; init; }

    /// <summary>Advertise the ResetTypes through a separate ActionInfo resource instead of on the action.</summary>
    public bool ResetTypesInActionInfo { get; init; }

    public IReadOnlyList<string> BootTargets { get; init; } = ["None", "Pxe", "Hdd", "Cd", "BiosSetup"];

    /// <summary>When set, the system carries <c>@odata.etag</c> and a PATCH must send it in If-Match.</summary>
    public bool UsesETags { get; init; }

    /// <summary>How many GETs of the system still report "On" after a ForceOff (a slow shutdown).</summary>
    public int GetsUntilOff { get; init; }

    public HttpStatusCode? FailResetsWith { get; init; }

    /// <summary>Answers a PATCH of "Once" with 204 and keeps the override Continuous (seen on real BMCs).</summary>
    public bool IgnoresOnce { get; init; }

    /// <summary>How many GETs after an On or a restart still report "Off": the power lands seconds after the 204.</summary>
    public int GetsUntilOn { get; init; }

    /// <summary>The power never comes on after a reset (a dead PSU, a BMC that acknowledges and does nothing).</summary>
    public bool NeverPowersOn { get; init; }
}

public sealed record RecordedRequest(string Method, string Path, string? AuthToken, string? Authorization, string? IfMatch, string Body);

/// <summary>
/// A Redfish service (DSP0266 subset: service root, SessionService, Systems, ComputerSystem with Boot, PowerState and
/// #ComputerSystem.Reset) on a real Kestrel listener on loopback. Everything but the root and the session login
/// demands a live X-Auth-Token, as the spec requires, so a driver that forgets the token fails here too.
/// </summary>
public sealed class FakeRedfishBmc(BmcFlavour flavour) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _sessions = []; // token -> session path
    private readonly Dictionary<string, SystemState> _systems = flavour.Systems.ToDictionary(s => Normal(s.Path), s => new SystemState(s));
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<string> _issuedTokens = [];
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public string Authority => BaseAddress.Authority;

    public IReadOnlyList<RecordedRequest> Requests { get { lock (_gate) { return [.. _requests]; } } }

    public IReadOnlyList<string> IssuedTokens { get { lock (_gate) { return [.. _issuedTokens]; } } }

    public int OpenSessions { get { lock (_gate) { return _sessions.Count; } } }

    /// <summary>Starts the BMC on loopback: plain HTTP, or HTTPS with <paramref name="certificate"/> (a BMC's self-signed one).</summary>
    public static async Task<FakeRedfishBmc> StartAsync(BmcFlavour flavour, CancellationToken ct, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var bmc = new FakeRedfishBmc(flavour);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.UseUrls(certificate is null ? "http://127.0.0.1:0" : "https://127.0.0.1:0");
        if (certificate is not null)
        {
            builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(h => h.ServerCertificate = certificate));
        }

        builder.Logging.ClearProviders();
        bmc._app = builder.Build();
        bmc._app.Run(bmc.HandleAsync);
        await bmc._app.StartAsync(ct);
        bmc.BaseAddress = new Uri(bmc._app.Urls.Single());
        return bmc;
    }

    public (string PowerState, string? BootEnabled, string? BootTarget, IReadOnlyList<string> Resets) System(string path)
    {
        lock (_gate)
        {
            var s = _systems[Normal(path)];
            return (s.Power, s.BootEnabled, s.BootTarget, [.. s.Resets]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await new StreamReader(request.Body, Encoding.UTF8).ReadToEndAsync(context.RequestAborted);
        var path = Normal(request.Path.Value ?? "/");
        var token = request.Headers["X-Auth-Token"].FirstOrDefault();
        (int Status, JsonObject? Json, Action<HttpResponse>? Headers) answer;
        lock (_gate)
        {
            _requests.Add(new RecordedRequest(request.Method, request.Path.Value ?? "", token, request.Headers.Authorization.FirstOrDefault(), request.Headers.IfMatch.FirstOrDefault(), body));
            answer = Answer(request.Method, path, token, request.Headers.Authorization.FirstOrDefault(), request.Headers.IfMatch.FirstOrDefault(), body);
        }

        context.Response.StatusCode = answer.Status;
        answer.Headers?.Invoke(context.Response);
        if (answer.Json is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.Json.ToJsonString(), context.RequestAborted);
        }
    }

    private (int, JsonObject?, Action<HttpResponse>?) Answer(string method, string path, string? token, string? authorization, string? ifMatch, string body)
    {
        var sessions = Normal(flavour.SessionsPath);
        if (method == "GET" && path == "/redfish/v1")
        {
            return (200, Root(), null);
        }

        if (method == "POST" && path == sessions && flavour.HasSessionService)
        {
            return LogIn(body);
        }

        if (!Authenticated(token, authorization))
        {
            return (401, Error("Base.1.8.NoValidSession", "There is no valid session established with the implementation."), null);
        }

        if (method == "DELETE" && token is not null && _sessions.TryGetValue(token, out var own) && path == own)
        {
            _sessions.Remove(token);
            return (204, null, null);
        }

        if (method == "GET" && path == "/redfish/v1/SessionService" && flavour.HasSessionService)
        {
            return (200, new JsonObject { ["@odata.id"] = "/redfish/v1/SessionService", ["Sessions"] = Link(flavour.SessionsPath) }, null);
        }

        if (method == "GET" && path == Normal(flavour.SystemsPath))
        {
            return (200, new JsonObject
            {
                ["@odata.id"] = flavour.SystemsPath,
                ["@odata.type"] = "#ComputerSystemCollection.ComputerSystemCollection",
                ["Members"] = new JsonArray([.. flavour.Systems.Select(s => (JsonNode)Link(s.Path))]),
                ["Members@odata.count"] = flavour.Systems.Count,
            }, null);
        }

        foreach (var (key, system) in _systems)
        {
            if (path == key)
            {
                return method switch
                {
                    "GET" => (200, system.Read(flavour), null),
                    "PATCH" => system.Patch(flavour, ifMatch, body),
                    _ => (405, Error("Base.1.8.OperationNotAllowed", "Method not allowed."), null),
                };
            }

            if (method == "POST" && path == key + "/Actions/ComputerSystem.Reset")
            {
                return system.Reset(flavour, body);
            }

            if (method == "GET" && path == key + "/EthernetInterfaces" && system.Definition.Macs is { } macs)
            {
                return (200, new JsonObject
                {
                    ["@odata.id"] = key + "/EthernetInterfaces",
                    ["Members"] = new JsonArray([.. macs.Select((_, i) => (JsonNode)Link($"{key}/EthernetInterfaces/NIC.{i + 1}"))]),
                }, null);
            }

            if (method == "GET" && path.StartsWith(key + "/EthernetInterfaces/NIC.", StringComparison.Ordinal) && system.Definition.Macs is { } nics
                && int.TryParse(path[(key.Length + "/EthernetInterfaces/NIC.".Length)..], out var nic) && nic >= 1 && nic <= nics.Count)
            {
                return (200, new JsonObject { ["@odata.id"] = path, ["Id"] = $"NIC.{nic}", ["MACAddress"] = nics[nic - 1] }, null);
            }

            if (method == "GET" && path == key + "/ResetActionInfo")
            {
                var parameter = new JsonObject { ["Name"] = "ResetType", ["Required"] = true, ["DataType"] = "String", ["AllowableValues"] = Strings(flavour.ResetTypes ?? []) };
                return (200, new JsonObject { ["@odata.id"] = system.Definition.Path.TrimEnd('/') + "/ResetActionInfo", ["@odata.type"] = "#ActionInfo.v1_1_2.ActionInfo", ["Parameters"] = new JsonArray(parameter) }, null);
            }
        }

        return (404, Error("Base.1.8.ResourceMissingAtURI", $"The resource at the URI {path} was not found."), null);
    }

    private JsonObject Root()
    {
        var root = new JsonObject
        {
            ["@odata.id"] = "/redfish/v1/",
            ["@odata.type"] = "#ServiceRoot.v1_11_0.ServiceRoot",
            ["RedfishVersion"] = "1.11.0",
            ["Systems"] = Link(flavour.SystemsPath),
        };
        if (flavour.HasSessionService)
        {
            root["SessionService"] = Link("/redfish/v1/SessionService");
            if (flavour.SessionsInLinks)
            {
                root["Links"] = new JsonObject { ["Sessions"] = Link(flavour.SessionsPath) };
            }
        }

        return root;
    }

    private (int, JsonObject?, Action<HttpResponse>?) LogIn(string body)
    {
        var credentials = JsonNode.Parse(body);
        if ((string?)credentials?["UserName"] != flavour.Username || (string?)credentials?["Password"] != flavour.Password)
        {
            return (401, Error("Base.1.8.NoValidSession", "Invalid username or password."), null);
        }

        var token = Convert.ToHexString(Guid.NewGuid().ToByteArray());
        var session = flavour.SessionsPath.TrimEnd('/') + "/" + (_issuedTokens.Count + 1) + (flavour.SessionsPath.EndsWith('/') ? "/" : "");
        _issuedTokens.Add(token);
        _sessions[token] = Normal(session);
        var location = flavour.LocationHost is null ? session : $"https://{flavour.LocationHost}{session}";
        return (201, new JsonObject { ["@odata.id"] = session, ["Id"] = _issuedTokens.Count.ToString(), ["UserName"] = flavour.Username }, response =>
        {
            response.Headers["X-Auth-Token"] = token;
            response.Headers.Location = location;
        });
    }

    private bool Authenticated(string? token, string? authorization) => flavour.HasSessionService
        ? token is not null && _sessions.ContainsKey(token)
        : authorization == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{flavour.Username}:{flavour.Password}"));

    /// <summary>Paths compare without a trailing slash, as BMCs that write links with one (HPE) also accept them without.</summary>
    private static string Normal(string path) => path.Length > 1 ? path.TrimEnd('/') : path;

    private static JsonObject Link(string path) => new() { ["@odata.id"] = path };

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);

    private static JsonObject Error(string code, string message) => new()
    {
        ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["@Message.ExtendedInfo"] = new JsonArray(new JsonObject { ["MessageId"] = code, ["Message"] = message }) },
    };
}
