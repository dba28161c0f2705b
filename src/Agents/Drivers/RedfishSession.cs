using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Reimage.Agents.Drivers;

/// <summary>A Redfish step that failed; the message is the command's Detail, so it names the BMC and never a secret.</summary>
public sealed class RedfishException : Exception
{
    public RedfishException() { }

    public RedfishException(string message) : base(message) { }

    public RedfishException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// One authenticated conversation with one BMC (DSP0266): discovers the session collection from the service root, logs
/// in, sends requests with the session's X-Auth-Token (or Basic auth when the service has no SessionService), and
/// logs out. The token lives only in this object and in request headers.
/// </summary>
internal sealed class RedfishSession(HttpClient http, Uri bmc, RedfishOptions options)
{
    private AuthenticationHeaderValue? _basic;
    private string? _token;
    private string? _sessionPath;

    /// <summary>"BMC 10.1.2.3": how every detail names the BMC.</summary>
    public string Label { get; } = $"BMC {bmc.Authority}";

    public JsonObject Root { get; private set; } = [];

    public async Task LogInAsync(CancellationToken ct)
    {
        if (bmc.Scheme != Uri.UriSchemeHttps && !options.AllowPlainHttp)
        {
            throw new RedfishException($"{Label}: refusing to send credentials over plain http (RedfishOptions.AllowPlainHttp is off)");
        }

        (Root, _) = await GetAsync("/redfish/v1/", ct);
        var sessions = Link(Root["Links"]?["Sessions"]);
        if (sessions is null && Link(Root["SessionService"]) is { } sessionService)
        {
            // Older services omit Links.Sessions; SessionService names its collection, but may want a login to show it.
            using var response = await RequestAsync(HttpMethod.Get, sessionService, null, null, authenticate: false, ct);
            sessions = response.IsSuccessStatusCode ? Link((await TryReadJsonAsync(response, ct))?["Sessions"]) : null;
            sessions ??= sessionService.TrimEnd('/') + "/Sessions";
        }

        if (sessions is null)
        {
            // No SessionService at all: DSP0266 lets such a service take HTTP Basic on every request.
            _basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Username}:{options.Password}")));
            return;
        }

        var credentials = new JsonObject { ["UserName"] = options.Username, ["Password"] = options.Password };
        using var login = await RequestAsync(HttpMethod.Post, sessions, credentials, null, authenticate: false, ct);
        if (login.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new RedfishException($"{Label}: login refused ({(int)login.StatusCode})");
        }

        if (!login.IsSuccessStatusCode)
        {
            // The BMC's error text is left out on purpose: some echo the request, and this one carried the password.
            throw new RedfishException($"{Label}: session login failed ({(int)login.StatusCode})");
        }

        _token = login.Headers.TryGetValues("X-Auth-Token", out var tokens) ? tokens.FirstOrDefault() : null;
        if (string.IsNullOrEmpty(_token))
        {
            throw new RedfishException($"{Label}: login answered {(int)login.StatusCode} without an X-Auth-Token");
        }

        _sessionPath = login.Headers.Location is { } location ? PathOf(location.OriginalString) : Link(await TryReadJsonAsync(login, ct));
    }

    /// <summary>Deletes the session, if there is one. Returns false when the BMC would not, so the caller can log it.</summary>
    public async Task<bool> LogOutAsync(CancellationToken ct)
    {
        if (_token is null)
        {
            return true;
        }

        if (_sessionPath is null)
        {
            return false; // no Location to delete: the session lingers until the BMC's idle timeout
        }

        using var response = await RequestAsync(HttpMethod.Delete, _sessionPath, null, null, authenticate: true, ct);
        _token = null;
        return response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound;
    }

    /// <summary>GETs a resource, returning its body and its ETag (the body's <c>@odata.etag</c>, else the header).</summary>
    public async Task<(JsonObject Body, string? ETag)> GetAsync(string path, CancellationToken ct)
    {
        using var response = await RequestAsync(HttpMethod.Get, path, null, null, authenticate: true, ct);
        await EnsureSuccessAsync(response, $"GET {path}", ct);
        var body = await TryReadJsonAsync(response, ct) ?? throw new RedfishException($"{Label}: GET {path} did not answer with a JSON object");
        return (body, Text(body["@odata.etag"]) ?? response.Headers.ETag?.ToString());
    }

    /// <summary>PATCHes or POSTs a body, accepting 200, 202 and 204 (a BMC may apply a change later and say so with 202).</summary>
    public async Task SendAsync(HttpMethod method, string path, JsonObject body, string? ifMatch, string step, CancellationToken ct)
    {
        using var response = await RequestAsync(method, path, body, ifMatch, authenticate: true, ct);
        await EnsureSuccessAsync(response, step, ct);
    }

    /// <summary>The path of an <c>@odata.id</c> link, or null when the property is missing.</summary>
    public static string? Link(JsonNode? node) => Text(node?["@odata.id"]) is { Length: > 0 } id ? PathOf(id) : null;

    /// <summary>A string property, or null when it is missing or not a string (BMCs are not always schema-perfect).</summary>
    public static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>
    /// Only the path of a link or Location is used, always against the configured BMC: a service that reports an
    /// absolute URL on another host must not receive the session token there.
    /// </summary>
    private static string PathOf(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https" ? absolute.PathAndQuery : uri;

    private async Task<HttpResponseMessage> RequestAsync(HttpMethod method, string path, JsonObject? body, string? ifMatch, bool authenticate, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(bmc, path));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Add("OData-Version", "4.0");
        if (authenticate && _token is not null)
        {
            request.Headers.Add("X-Auth-Token", _token);
        }
        else if (authenticate && _basic is not null)
        {
            request.Headers.Authorization = _basic;
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        try
        {
            return await http.SendAsync(request, ct);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new RedfishException($"{Label}: timed out on {method} {path}", e);
        }
        catch (HttpRequestException e)
        {
            throw new RedfishException($"{Label}: {Cause(e, bmc)} on {method} {path}", e);
        }
    }

    /// <summary>What really went wrong, in words an operator acts on (never only "see the inner exception").</summary>
    private static string Cause(HttpRequestException e, Uri bmc)
    {
        if (e.InnerException is System.Security.Authentication.AuthenticationException)
        {
            return BmcCertificates.Presented(bmc) is { } seen
                ? seen.Errors.HasFlag(System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) && !seen.Errors.HasFlag(System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors)
                    ? $"TLS refused: the BMC's certificate ({seen.Subject}) is not issued for {bmc.Host}, SHA-256 {seen.Thumbprint}; pin it in Agent:Redfish:TrustedCertificates if it is this BMC's"
                    : $"TLS refused: the BMC's certificate ({seen.Subject}) is not trusted ({seen.Errors}), SHA-256 {seen.Thumbprint}; pin it in Agent:Redfish:TrustedCertificates if it is this BMC's"
                : $"TLS refused ({e.InnerException.Message})";
        }

        return e.InnerException is System.Net.Sockets.SocketException socket
            ? socket.SocketErrorCode switch
            {
                System.Net.Sockets.SocketError.ConnectionRefused => "connection refused (nothing listens on that port)",
                System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData => $"host {bmc.Host} not found (DNS)",
                System.Net.Sockets.SocketError.TimedOut => "connection timed out",
                System.Net.Sockets.SocketError.HostUnreachable or System.Net.Sockets.SocketError.NetworkUnreachable => "host unreachable (routing or firewall)",
                var other => $"unreachable ({other})",
            }
            : $"unreachable ({e.HttpRequestError}: {e.Message})";
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string step, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var message = await ErrorMessageAsync(response, ct);
        throw new RedfishException($"{Label}: {step} failed ({(int)response.StatusCode}{(message is null ? "" : $": {message}")})");
    }

    private static async Task<JsonObject?> TryReadJsonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            return JsonNode.Parse(await response.Content.ReadAsStringAsync(ct)) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>The Redfish error's first extended message (what the operator needs: "server is in POST"), kept short.</summary>
    private static async Task<string?> ErrorMessageAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var error = (await TryReadJsonAsync(response, ct))?["error"];
        var message = Text((error?["@Message.ExtendedInfo"] as JsonArray)?.FirstOrDefault()?["Message"]) ?? Text(error?["message"]);
        return message is { Length: > 200 } ? message[..200] : message;
    }
}
