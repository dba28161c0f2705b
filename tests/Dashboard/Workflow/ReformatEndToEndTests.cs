using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Reimage.Agents.Protocol;
using Reimage.Agents.Protocol.Simulation;
using Reimage.Dashboard.Agents;
using Reimage.Orchestrator.Agents;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Workflow;

/// <summary>
/// The Reformat path for real: Hangfire on PostgreSQL runs the workflow pump, and a site agent loop with the
/// simulated fleet answers the commands through the in-process transport.
/// </summary>
// Hangfire keeps some configuration in statics: test classes that run a Hangfire server share one collection and take turns.
[Collection("Hangfire")]
public sealed class ReformatEndToEndTests(PostgresFixture postgres)
{
    private static readonly Actor Lead = new("lead@test", "test");
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LaunchedWave_TakesEveryMachineFromNotPlannedToRestored_WithinTheSitesImagingSlots()
    {
        using var host = await StartHostAsync();
        var db = host.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "E2E", imagingSlots: 3);
        var machines = await TestFleet.AddMachinesAsync(db, site, 10);

        await LaunchAsync(host, machines);
        await RunAgentUntilAsync(host, site.Id, Fleet(failureRate: 0), db, "SELECT count(*) = 10 FROM reimage.recoveries WHERE state = 'Restored'");

        await using var context = TestFleet.Context(db);
        var events = await context.MachineEvents.OrderBy(e => e.Id).ToListAsync(Ct);
        foreach (var machine in machines)
        {
            Assert.Equal(
                ["Planned", "Queued", "InProgress:NetworkBoot", "InProgress:Imaging", "InProgress:Verify", "Restored"],
                events.Where(e => e.MachineId == machine).Select(e => e.Step is null ? e.ToState : $"{e.ToState}:{e.Step}"));
        }

        Assert.Equal(3, MaxMachinesHoldingSlots(events));
        await using var jobs = db.CreateCommand("SELECT count(*) FROM hangfire.job WHERE statename = 'Succeeded' AND invocationdata::text LIKE '%WorkflowPumpJob%'");
        Assert.True((long)(await jobs.ExecuteScalarAsync(Ct))! > 0, "the pump ran as Hangfire jobs");
    }

    [Fact]
    public async Task StepThatKeepsFailing_IsRetriedToItsLimit_ThenTheMachineIsFailedWithAReason()
    {
        using var host = await StartHostAsync();
        var db = host.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "FAIL", imagingSlots: 5);
        var machines = await TestFleet.AddMachinesAsync(db, site, 2);

        await LaunchAsync(host, machines);
        await RunAgentUntilAsync(host, site.Id, Fleet(failureRate: 1), db, "SELECT count(*) = 2 FROM reimage.recoveries WHERE state = 'Failed'");

        await using var context = TestFleet.Context(db);
        var failed = await context.Recoveries.ToListAsync(Ct);
        Assert.All(failed, r =>
        {
            Assert.Equal((Step.NetworkBoot, 3), (r.Step, r.Attempt));
            Assert.StartsWith("NetworkBoot failed 3 times; last:", r.FailureReason, StringComparison.Ordinal);
        });
        Assert.Equal(6, await context.AgentCommands.CountAsync(c => c.Status == CommandStatus.Applied, Ct));
    }

    private static SimulatedFleetOptions Fleet(double failureRate) => new()
    {
        Speed = 1,
        Steps = new()
        {
            ["network-boot"] = new(TimeSpan.FromMilliseconds(40), 0.3, failureRate),
            ["await-imaging"] = new(TimeSpan.FromMilliseconds(80), 0.3, 0),
            ["verify"] = new(TimeSpan.FromMilliseconds(20), 0.3, 0),
        },
    };

    private async Task<IHost> StartHostAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration["ConnectionStrings:Reimage"] = await postgres.CreateDatabaseAsync();
        builder.Configuration["Reimage:Workflow:RetryBackoff"] = "00:00:00";
        builder.AddReimageStorage();
        builder.AddReimageWorkflow();
        var host = builder.Build();
        await host.StartAsync(Ct);
        return host;
    }

    private static async Task LaunchAsync(IHost host, Guid[] machines)
    {
        var planner = host.Services.GetRequiredService<WavePlanner>();
        var wave = await planner.CreateAsync("Wave under test", 1, Ct);
        Assert.Equal(machines.Length, await planner.AddMachinesAsync(wave.Id, machines, Lead, Ct));
        await planner.ApproveAsync(wave.Id, Lead, Ct);
        Assert.Equal(machines.Length, await planner.LaunchAsync(wave.Id, Lead, Ct));
    }

    /// <summary>Runs a site agent until <paramref name="doneSql"/> answers true, failing after a minute.</summary>
    private static async Task RunAgentUntilAsync(IHost host, Guid siteId, SimulatedFleetOptions fleet, NpgsqlDataSource db, string doneSql)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var transport = new InProcessAgentTransport(
            host.Services.GetRequiredService<AgentCommandQueue>(), host.Services.GetRequiredService<WorkflowKick>(), siteId, "test-agent");
        var agent = new SiteAgent(transport, new SimulatedFleet(fleet, TimeProvider.System),
            new SiteAgentOptions { IdleDelay = TimeSpan.FromMilliseconds(50), ReportInterval = TimeSpan.FromMilliseconds(50) },
            TimeProvider.System, NullLogger<SiteAgent>.Instance);
        var running = agent.RunAsync(stop.Token);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!await IsTrueAsync(db, doneSql))
        {
            Assert.True(DateTime.UtcNow < deadline, $"not reached within a minute: {doneSql}");
            await Task.Delay(100, Ct); // polling the database for the end state, not waiting for a guess
        }

        await stop.CancelAsync();
        await running;
    }

    private static async Task<bool> IsTrueAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        return (bool)(await command.ExecuteScalarAsync(Ct))!;
    }

    /// <summary>Replays the event log and returns the most machines that held an imaging slot at once.</summary>
    private static int MaxMachinesHoldingSlots(IEnumerable<Orchestrator.Machines.MachineEvent> events)
    {
        var holding = new HashSet<Guid>();
        var max = 0;
        foreach (var e in events)
        {
            if (e.ToState == "InProgress" && RecoveryPaths.SlotSteps.Contains(e.Step!))
            {
                holding.Add(e.MachineId);
            }
            else
            {
                holding.Remove(e.MachineId);
            }

            max = Math.Max(max, holding.Count);
        }

        return max;
    }
}
