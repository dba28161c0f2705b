using Reimage.Agents.Enrolment;
using Reimage.Agents.Protocol;

namespace Reimage.Agents;

/// <summary>
/// The site agent as a service: enrols on first start (one-time token → credential kept locally), then runs the
/// command loop against the server and sends heartbeats. Stops with exit code 4 when the server refuses the
/// credential (revoked), so the service manager does not restart it in a loop.
/// </summary>
public sealed class AgentService(AgentSettings settings, IHttpClientFactory clients, IMachineDriver driver, SiteAgentOptions loop,
    IHostApplicationLifetime lifetime, TimeProvider clock, ILogger<AgentService> logger, ILogger<SiteAgent> agentLogger) : BackgroundService
{
    public const string HttpClientName = "reimage-server";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var store = new CredentialStore(settings.DataDirectory);
            var credential = store.Load();
            var http = clients.CreateClient(HttpClientName);
            if (credential is null || credential.Server != settings.Server)
            {
                if (string.IsNullOrWhiteSpace(settings.EnrolmentToken))
                {
                    logger.LogCritical("This agent is not enrolled with {Server}: set Agent__EnrolmentToken to a token a lead created for the site", settings.Server);
                    Stop(ExitCodes.NotEnrolled);
                    return;
                }

                credential = await HttpAgentTransport.EnrolAsync(http, settings.EnrolmentToken.Trim(), settings.Name, stoppingToken);
                store.Save(credential);
                logger.LogInformation("Enrolled as agent {AgentId} for site {SiteId}; the enrolment token is used up and can be removed from the configuration",
                    credential.AgentId, credential.SiteId);
            }

            var transport = new HttpAgentTransport(http, () => credential.Credential, settings.LongPoll);
            var agent = new SiteAgent(transport, driver, loop, clock, agentLogger);
            logger.LogInformation("Agent {AgentId} working for site {SiteId} against {Server}", credential.AgentId, credential.SiteId, settings.Server);
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
                await Task.Delay(settings.HeartbeatInterval, clock, ct);
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
