using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Reimage.Agents.Protocol;
using Reimage.Agents.Protocol.Simulation;
using Reimage.Dashboard.Agents;
using Reimage.Orchestrator.Agents;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;
using Reimage.Orchestrator.HandsOn;

namespace Reimage.Dashboard.Demo;

/// <summary>
/// Configuration section <c>Reimage:Demo</c>. The simulated agents hold their commands for <c>Reimage:Agents:Lease</c>,
/// like any other agent.
/// </summary>
public sealed class DemoOptions
{
    public const string Section = "Reimage:Demo";

    /// <summary>Simulated seconds per real second for the simulated fleet and the simulated technicians.</summary>
    public double Speed { get; set; } = 60;
}

public static class DemoExtensions
{
    /// <summary>
    /// Demo mode: seeds the demo fleet on first start (sites, technicians, ~30,000 machines through the import
    /// path, three waves of which two are launched) and runs one simulated site agent per site in-process.
    /// </summary>
    public static WebApplicationBuilder AddDemo(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DemoOptions>().BindConfiguration(DemoOptions.Section)
            .Validate(o => o.Speed > 0, "Reimage:Demo:Speed must be positive.")
            .ValidateOnStart();
        builder.Services.AddHostedService<DemoRunner>();
        return builder;
    }
}

internal sealed class DemoRunner(
    IDbContextFactory<ReimageDbContext> contexts, NpgsqlDataSource db, FleetImporter importer, WavePlanner waves,
    AgentCommandQueue queue, WorkflowKick kick, HandsOnSteps handsOn, IOptions<DemoOptions> demo, IOptions<AgentOptions> agentOptions, TimeProvider clock,
    ILoggerFactory loggers, IServiceScopeFactory scopes) : BackgroundService
{
    /// <summary>The roster entry the demo's <c>technician</c> account works as.</summary>
    public const string HumanTechnician = "DHA technician 2";

    private static readonly Actor DemoActor = new("demo", "demo-seed");
    private readonly ILogger _logger = loggers.CreateLogger<DemoRunner>();
    private readonly DemoOptions _options = demo.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await SeedIfEmptyAsync(stoppingToken);
        await LinkDemoTechnicianAsync(stoppingToken);
        await using var context = await contexts.CreateDbContextAsync(stoppingToken);
        var sites = await context.Sites.AsNoTracking().ToListAsync(stoppingToken);
        var fleet = new SimulatedFleet(new SimulatedFleetOptions { Speed = _options.Speed }, clock);
        _logger.LogInformation("Demo: running the simulated fleet at {Speed}× real time with one agent for each of {Sites} sites", _options.Speed, sites.Count);
        var agents = sites.Select(site => new SiteAgent(
            new InProcessAgentTransport(queue, kick, site.Id, $"demo-agent-{site.Code}", agentOptions.Value.Lease),
            fleet, new SiteAgentOptions(), clock, loggers.CreateLogger<SiteAgent>()).RunAsync(stoppingToken));
        await Task.WhenAll([.. agents, TechniciansAsync(stoppingToken)]);
    }

    /// <summary>The demo's technician account gets a real queue: that of a day-shift technician at Dhahran.</summary>
    private async Task LinkDemoTechnicianAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Accounts.ReimageUser>>();
        await using var context = await contexts.CreateDbContextAsync(ct);
        var roster = await context.Technicians.AsNoTracking().FirstOrDefaultAsync(t => t.Name == HumanTechnician, ct);
        if (await users.FindByNameAsync("technician") is not { } user || roster is null
            || (await users.GetClaimsAsync(user)).Any(c => c.Type == Accounts.ReimageClaimsFactory.TechnicianClaim))
        {
            return;
        }

        await users.AddClaimAsync(user, new System.Security.Claims.Claim(Accounts.ReimageClaimsFactory.TechnicianClaim, roster.Id.ToString()));
    }

    private async Task SeedIfEmptyAsync(CancellationToken ct)
    {
        await using var context = await contexts.CreateDbContextAsync(ct);
        if (await context.Machines.AnyAsync(ct))
        {
            _logger.LogInformation("Demo: the fleet is already seeded; continuing where it left off");
            return;
        }

        var now = clock.GetUtcNow();
        foreach (var site in DemoFleet.Sites)
        {
            // Copenhagen Shipping stands in for the bandwidth-starved sites: imaged from couriered USB media.
            var usb = site.Code == "CPH";
            var entity = new Site { Id = Guid.CreateVersion7(), Code = site.Code, Name = site.Name, TimeZone = site.TimeZone, ImagingSlots = site.ImagingSlots, ImagesFromUsb = usb, CreatedAt = now };
            context.Sites.Add(entity);
            for (var t = 1; t <= site.Technicians; t++)
            {
                // Two 12-hour crews, round the clock, in the site's own time zone.
                var technician = new Technician { Id = Guid.CreateVersion7(), SiteId = entity.Id, Name = $"{site.Code} technician {t}", Building = $"B{1 + (t % 4)}" };
                context.Technicians.Add(technician);
                context.Shifts.Add(new Shift { Id = Guid.CreateVersion7(), TechnicianId = technician.Id, Starts = new TimeOnly(t % 2 == 0 ? 7 : 19, 0), Ends = new TimeOnly(t % 2 == 0 ? 19 : 7, 0) });
            }

            // Spare drives run short at the two smallest offices, with a delivery on its way: machines there will await parts.
            var scarce = site.Code is "TYO" or "SIN";
            context.SpareStock.Add(new SpareStock { SiteId = entity.Id, Item = "NVMe-512", OnHand = scarce ? 15 : site.Machines / 8 });
            context.SpareStock.Add(new SpareStock { SiteId = entity.Id, Item = "SATA-SSD-256", OnHand = scarce ? 20 : site.Machines / 6 });
            if (usb)
            {
                context.SpareStock.Add(new SpareStock { SiteId = entity.Id, Item = SpareStock.UsbMedia, OnHand = 12 });
            }

            if (scarce)
            {
                context.Deliveries.Add(new Delivery { Id = Guid.CreateVersion7(), SiteId = entity.Id, Item = "NVMe-512", Quantity = 200, Reference = "courier from Dhahran", ExpectedAt = now.AddDays(1), CreatedAt = now });
            }
        }

        await context.SaveChangesAsync(ct);

        await using var csv = new MemoryStream(Encoding.UTF8.GetBytes(DemoFleet.Csv()));
        var report = await importer.ImportAsync(csv, new ImportOptions(CreateSites: true), DemoActor, ct);
        if (!report.Imported)
        {
            throw new InvalidOperationException("The demo fleet did not import:\n" + report.ToText());
        }

        var identity = await waves.CreateAsync("1 · Identity and core infrastructure", 1, ct);
        var critical = await waves.CreateAsync("2 · Critical business", 2, ct);
        var everyone = await waves.CreateAsync("3 · Everyone else", 3, ct);
        await waves.AddMachinesAsync(identity.Id, await MachinesAsync("m.criticality <= 2", ct), DemoActor, ct);
        await waves.AddMachinesAsync(critical.Id, await MachinesAsync("m.criticality = 3", ct), DemoActor, ct);
        await waves.AddMachinesAsync(everyone.Id, await MachinesAsync("m.criticality = 4 AND abs(hashtext(m.hostname)) % 10 < 6", ct), DemoActor, ct);
        await waves.SetGateAsync(critical.Id, identity.Id, 50, ct);
        await waves.SetGateAsync(everyone.Id, critical.Id, 100, ct);
        await waves.ApproveAsync(identity.Id, DemoActor, ct);
        await waves.ApproveAsync(critical.Id, DemoActor, ct);
        var queued = await waves.LaunchAsync(identity.Id, DemoActor, ct);
        queued += await waves.LaunchAsync(critical.Id, DemoActor, ct);
        _logger.LogInformation("Demo: seeded {Machines} machines at {Sites} sites; {Queued} queued in two launched waves", report.Rows, DemoFleet.Sites.Count, queued);
    }

    /// <summary>
    /// Simulated technicians: a drive comes out in about 20 minutes and a new one goes in in about 15 (on the demo's
    /// clock), checked off through the same API code a tablet uses, with evidence bag and seal ids.
    /// </summary>
    private async Task TechniciansAsync(CancellationToken ct)
    {
        var minutes = new Dictionary<Step, double> { [Step.RemoveDrive] = 20, [Step.InstallDrive] = 15, [Step.ManualBoot] = 5 };
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500), clock);
        while (await timer.WaitForNextTickAsync(ct))
        {
            try
            {
                foreach (var (step, duration) in minutes)
                {
                    // Only assigned work: a simulated technician does what is in their queue, under their own name.
                    await using var due = db.CreateCommand(
                        """
                        SELECT r.machine_id, r.attempt, t.name FROM reimage.recoveries r JOIN reimage.technicians t ON t.id = r.technician_id
                        WHERE r.state = 'InProgress' AND r.step = @step AND r.step_started_at < @before
                          AND NOT EXISTS (SELECT 1 FROM identity."AspNetUserClaims" c WHERE c.claim_type = @linked AND c.claim_value = t.id::text)
                        LIMIT 500
                        """);
                    // Roster entries a person signs in as are left to that person.
                    due.Parameters.AddWithValue("linked", Accounts.ReimageClaimsFactory.TechnicianClaim);
                    due.Parameters.AddWithValue("step", step.ToString());
                    due.Parameters.AddWithValue("before", clock.GetUtcNow() - TimeSpan.FromMinutes(duration / _options.Speed));
                    var machines = new List<(Guid Id, int Attempt, string Technician)>();
                    await using (var reader = await due.ExecuteReaderAsync(ct))
                    {
                        while (await reader.ReadAsync(ct))
                        {
                            machines.Add((reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2)));
                        }
                    }

                    foreach (var (id, attempt, technician) in machines)
                    {
                        // The random tail of the id: a version-7 id starts with its timestamp, shared by machines made in the same minute.
                        var tag = id.ToString("N")[^12..].ToUpperInvariant();
                        var completion = step switch
                        {
                            Step.RemoveDrive => new HandsOnCompletion(RemovedDriveSerial: $"WD-{tag}", EvidenceBagId: $"EB-{tag}", SealId: $"SEAL-{tag}", StorageLocation: "evidence locker A"),
                            Step.InstallDrive => new HandsOnCompletion(NewDriveSerial: $"SPARE-{tag}"),
                            _ => new HandsOnCompletion(),
                        };
                        // The simulation is the account; the roster entry it plays is named beside it.
                        await handsOn.CompleteAsync(id, step, completion, $"demo:{id}:{step}:{attempt}", new Actor("demo", "demo simulation", technician), ct);
                    }
                }
            }
            catch (NpgsqlException e)
            {
                _logger.LogWarning("Demo technicians could not reach the database: {Reason}", e.Message);
            }
        }
    }

    private async Task<Guid[]> MachinesAsync(string condition, CancellationToken ct)
    {
        await using var command = db.CreateCommand($"SELECT m.id FROM reimage.machines m WHERE {condition}");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var ids = new List<Guid>();
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetGuid(0));
        }

        return [.. ids];
    }
}
