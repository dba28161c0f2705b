using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Reimage.Agents.Enrolment;

namespace Reimage.Agents.Protocol;

/// <summary>The server refused this agent's credential (revoked, rotated elsewhere, or mistyped): re-enrol.</summary>
public sealed class CredentialRejectedException(string message = "The server refused this agent's credential; it was revoked or replaced. Enrol again with a new token.")
    : Exception(message);

/// <summary>
/// The agent's HTTPS client for <c>/agent/v1</c>: a long-poll fetch that leases commands of the agent's site,
/// batched results (idempotent on the server by command id), heartbeats, enrolment and credential rotation.
/// </summary>
public sealed class HttpAgentTransport(HttpClient http, Func<string> credential, TimeSpan longPoll) : IAgentTransport
{
    public async Task<IReadOnlyList<AgentCommand>> FetchAsync(int max, CancellationToken ct)
    {
        using var request = Authorized(HttpMethod.Post, "agent/v1/commands/lease", new { max, waitSeconds = (int)longPoll.TotalSeconds });
        using var response = await SendAsync(request, ct);
        return await response.Content.ReadFromJsonAsync<List<AgentCommand>>(JsonSerializerOptions.Web, ct) ?? [];
    }

    public async Task ReportAsync(IReadOnlyList<CommandResult> results, CancellationToken ct)
    {
        using var request = Authorized(HttpMethod.Post, "agent/v1/results", results);
        using var response = await SendAsync(request, ct);
    }

    public async Task HeartbeatAsync(int inFlight, CancellationToken ct)
    {
        using var request = Authorized(HttpMethod.Post, "agent/v1/heartbeat", new { inFlight, version = typeof(HttpAgentTransport).Assembly.GetName().Version?.ToString() });
        using var response = await SendAsync(request, ct);
    }

    /// <summary>Asks for a new credential; the old one stops working when the server answers.</summary>
    public async Task<string> RotateAsync(CancellationToken ct)
    {
        using var request = Authorized(HttpMethod.Post, "agent/v1/credential/rotate", new { });
        using var response = await SendAsync(request, ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(JsonSerializerOptions.Web, ct);
        return body.GetProperty("credential").GetString()!;
    }

    /// <summary>Trades a one-time enrolment token for this agent's credential.</summary>
    public static async Task<StoredCredential> EnrolAsync(HttpClient http, string token, string name, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync("agent/v1/enrol", new { token, name, platform = Environment.OSVersion.Platform.ToString() }, JsonSerializerOptions.Web, ct);
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadAsStringAsync(ct);
            // A refused token needs a person (a new token), not a restart loop: same exit code as a revoked credential.
            throw (int)response.StatusCode is 400 or 401
                ? new CredentialRejectedException($"Enrolment refused ({(int)response.StatusCode}): {problem}")
                : new HttpRequestException($"Enrolment failed ({(int)response.StatusCode}): {problem}");
        }

        var body = await response.Content.ReadFromJsonAsync<JsonElement>(JsonSerializerOptions.Web, ct);
        return new StoredCredential(body.GetProperty("agentId").GetGuid(), body.GetProperty("siteId").GetGuid(), http.BaseAddress!, body.GetProperty("credential").GetString()!);
    }

    private HttpRequestMessage Authorized(HttpMethod method, string path, object body)
    {
        var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body, options: JsonSerializerOptions.Web) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential());
        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var response = await http.SendAsync(request, ct);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            response.Dispose();
            throw new CredentialRejectedException();
        }

        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            response.Dispose();
            throw new HttpRequestException($"{request.RequestUri} answered {status}", null, (HttpStatusCode)status);
        }

        return response;
    }
}
