using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Reimage.Agents.Enrolment;
using Reimage.Agents.Protocol;

namespace Reimage.Agents;

/// <summary>
/// The agent's HTTPS client for <c>/agent/v1</c>: a long-poll fetch that leases commands of the agent's site,
/// batched results (idempotent on the server by command id), heartbeats, enrolment and credential rotation.
/// </summary>
public sealed class HttpAgentTransport(HttpClient http, Func<string> credential, TimeSpan longPoll) : IAgentTransport
{
    public async Task<IReadOnlyList<LeasedCommand>> FetchAsync(int max, CancellationToken ct)
    {
        using var request = Authorized(HttpMethod.Post, "agent/v1/commands/lease", new LeaseRequest(max, (int)longPoll.TotalSeconds));
        using var response = await SendAsync(request, ct);
        return await response.Content.ReadFromJsonAsync<List<LeasedCommand>>(JsonSerializerOptions.Web, ct) ?? [];
    }

    public async Task<ResultsReceipt> ReportAsync(IReadOnlyList<CommandResult> results, CancellationToken ct)
    {
        using var request = Authorized(HttpMethod.Post, "agent/v1/results", results);
        HttpResponseMessage response;
        try
        {
            response = await SendAsync(request, ct);
        }
        catch (HttpRequestException e) when (e.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge
            or HttpStatusCode.UnsupportedMediaType or HttpStatusCode.UnprocessableEntity)
        {
            throw new BatchRefusedException(e.Message);
        }

        using (response)
        {
            return await response.Content.ReadFromJsonAsync<ResultsReceipt>(JsonSerializerOptions.Web, ct)
                ?? new ResultsReceipt(results.Count, 0, []);
        }
    }

    public async Task HeartbeatAsync(int inFlight, CancellationToken ct)
    {
        using var request = Authorized(HttpMethod.Post, "agent/v1/heartbeat", new Heartbeat(inFlight, typeof(HttpAgentTransport).Assembly.GetName().Version?.ToString()));
        using var response = await SendAsync(request, ct);
    }

    /// <summary>Asks for a new credential; the old one stops working when the server answers.</summary>
    public async Task<string> RotateAsync(CancellationToken ct)
    {
        using var request = Authorized(HttpMethod.Post, "agent/v1/credential/rotate", new { });
        using var response = await SendAsync(request, ct);
        var body = await response.Content.ReadFromJsonAsync<CredentialRotated>(JsonSerializerOptions.Web, ct);
        return body?.Credential ?? throw new HttpRequestException($"{request.RequestUri} answered without a credential");
    }

    /// <summary>Trades a one-time enrolment token for this agent's credential.</summary>
    public static async Task<StoredCredential> EnrolAsync(HttpClient http, string token, string name, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync("agent/v1/enrol", new EnrolRequest(token, name, Environment.OSVersion.Platform.ToString()), JsonSerializerOptions.Web, ct);
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadAsStringAsync(ct);
            // A refused token needs a person (a new token), not a restart loop: same exit code as a revoked credential.
            throw (int)response.StatusCode is 400 or 401
                ? new CredentialRejectedException($"Enrolment refused ({(int)response.StatusCode}): {problem}")
                : new HttpRequestException($"Enrolment failed ({(int)response.StatusCode}): {problem}");
        }

        var enrolled = await response.Content.ReadFromJsonAsync<EnrolResponse>(JsonSerializerOptions.Web, ct);
        return enrolled is { Credential.Length: > 0 }
            ? new StoredCredential(enrolled.AgentId, enrolled.SiteId, http.BaseAddress!, enrolled.Credential)
            : throw new HttpRequestException("Enrolment answered without a credential");
    }

    private HttpRequestMessage Authorized<T>(HttpMethod method, string path, T body)
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
