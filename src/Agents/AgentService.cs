using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Reimage.Agents.Enrolment;
using Reimage.Agents.Protocol;

namespace Reimage.Agents;

public static class AgentServiceRegistration
{
    /// <summary>
    /// The agent's own section (<c>Agent</c>), bound once and checked when the host starts (each failure names its key),
    /// the HTTPS client for the server, and the service itself.
    /// </summary>
    public static HostApplicationBuilder AddAgentService(this HostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AgentSettings>().BindConfiguration(AgentSettings.Section)
            .Validate(s => s.Server is not null && (s.Server.Scheme == Uri.UriSchemeHttps || (s.AllowInsecureHttp && s.Server.Scheme == Uri.UriSchemeHttp)),
                "Agent:Server (Agent__Server) must be the Reimage server's https:// address (plain http only with Agent__AllowInsecureHttp=true, for loopback tests).")
            .Validate(s => s.Name.Trim().Length is > 0 and <= 128, "Agent:Name must be 1 to 128 characters.")
            .Validate(s => !string.IsNullOrWhiteSpace(s.DataDirectory), "Agent:DataDirectory must name the folder that keeps the agent's credential.")
            .Validate(s => s.Driver is AgentSettings.RealDriver or AgentSettings.SimulatedDriver,
                $"Agent:Driver must be '{AgentSettings.RealDriver}' or '{AgentSettings.SimulatedDriver}'.")
            .Validate(s => s.MaxInFlight > 0, "Agent:MaxInFlight must be at least 1.")
            .Validate(s => s.LongPoll >= TimeSpan.Zero, "Agent:LongPoll must not be negative.")
            .Validate(s => s.HeartbeatInterval > TimeSpan.Zero, "Agent:HeartbeatInterval must be positive.")
            .Validate(s => s.SimulationSpeed > 0, "Agent:SimulationSpeed must be positive.")
            .Validate(s => s.ServerCertificates.All(Thumbprints.IsSha256),
                "Agent:ServerCertificates must list SHA-256 thumbprints of the server's certificate (64 hex digits; colons or spaces between them are fine).")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHttpClient(AgentService.HttpClientName, (services, c) =>
        {
            var settings = services.GetRequiredService<IOptions<AgentSettings>>().Value;
            c.BaseAddress = new Uri(settings.Server!.ToString().TrimEnd('/') + "/");
            c.Timeout = settings.LongPoll + TimeSpan.FromSeconds(30);
        }).ConfigurePrimaryHttpMessageHandler(services =>
        {
            var pinned = services.GetRequiredService<IOptions<AgentSettings>>().Value.ServerCertificates;
            return new SocketsHttpHandler
            {
                // The credential travels in every request: never follow a redirect to somewhere else with it.
                AllowAutoRedirect = false,
                SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, errors) => errors == System.Net.Security.SslPolicyErrors.None || Thumbprints.Matches(certificate, pinned) },
            };
        });
        builder.Services.AddHostedService<AgentService>();
        return builder;
    }
}

/// <summary>
/// The site agent as a service: enrols on first start (one-time token → credential kept locally), then runs the
/// command loop against the server and sends heartbeats. Stops with exit code 4 when the server refuses the
/// credential (revoked), so the service manager does not restart it in a loop.
/// </summary>
public sealed class AgentService(IOptions<AgentSettings> options, IHttpClientFactory clients, IMachineDriver driver,
    IHostApplicationLifetime lifetime, TimeProvider clock, ILogger<AgentService> logger, ILogger<SiteAgent> agentLogger) : BackgroundService
{
    public const string HttpClientName = "reimage-server";

    private readonly AgentSettings _settings = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var store = new CredentialStore(_settings.DataDirectory);
            var credential = store.Load();
            var http = clients.CreateClient(HttpClientName);
            if (credential is null || credential.Server != _settings.Server)
            {
                if (string.IsNullOrWhiteSpace(_settings.EnrolmentToken))
                {
                    logger.LogCritical("This agent is not enrolled with {Server}: set Agent__EnrolmentToken to a token a lead created for the site", _settings.Server);
                    Stop(ExitCodes.NotEnrolled);
                    return;
                }

                credential = await HttpAgentTransport.EnrolAsync(http, _settings.EnrolmentToken.Trim(), _settings.Name, stoppingToken);
                store.Save(credential);
                logger.LogInformation("Enrolled as agent {AgentId} for site {SiteId}; the enrolment token is used up and can be removed from the configuration",
                    credential.AgentId, credential.SiteId);
            }

            var transport = new HttpAgentTransport(http, () => credential.Credential, _settings.LongPoll);
            var loop = new SiteAgentOptions
            {
                MaxInFlight = _settings.MaxInFlight,
                // On a real site imaging completes by phone-home from the task sequence; the simulated fleet does it itself.
                DeferredKinds = _settings.Simulated ? new HashSet<string>() : new HashSet<string> { "await-imaging" },
            };
            var agent = new SiteAgent(transport, driver, loop, clock, agentLogger);
            logger.LogInformation("Agent {AgentId} working for site {SiteId} against {Server}", credential.AgentId, credential.SiteId, _settings.Server);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var heartbeats = HeartbeatAsync(transport, agent, stop.Token);
            try
            {
                await agent.RunAsync(stop.Token);
            }
            finally
            {
                await stop.CancelAsync();
                await heartbeats;
            }
        }
        catch (CredentialRejectedException e)
        {
            logger.LogCritical("{Reason}", e.Message);
            Stop(ExitCodes.CredentialRejected);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogCritical(e, "The agent stopped");
            Stop(1);
        }
    }

    private async Task HeartbeatAsync(HttpAgentTransport transport, SiteAgent agent, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await transport.HeartbeatAsync(agent.InFlight, ct);
                await Task.Delay(_settings.HeartbeatInterval, clock, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (CredentialRejectedException)
            {
                throw;
            }
            catch (Exception e)
            {
                logger.LogWarning("Heartbeat failed: {Reason}", e.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), clock, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Stop(int exitCode)
    {
        Environment.ExitCode = exitCode;
        lifetime.StopApplication();
    }
}
