using System.Text;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Reimage.Agents;
using Reimage.Agents.Simulation;
using Reimage.Dashboard.Agents;
using Reimage.Orchestrator.Agents;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Demo;

public sealed record DemoOptions
{
    /// <summary>Simulated seconds per real second for the simulated fleet (<c>Reimage:Demo:Speed</c>).</summary>
    public double Speed { get; init; } = 60;

    /// <summary>How long a simulated agent holds a command before it is offered again (<c>Reimage:Demo:LeaseSeconds</c>).</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(5);
}

public static class DemoExtensions
{
    /// <summary>
    /// Demo mode: seeds the demo fleet on first start (sites, technicians, ~30,000 machines through the import
    /// path, three waves of which two are launched) and runs one simulated site agent per site in-process.
    /// </summary>
    public static WebApplicationBuilder AddDemo(this WebApplicationBuilder builder)
    {
        var options = new DemoOptions
        {
            Speed = builder.Configuration.GetValue("Reimage:Demo:Speed", 60.0),
            Lease = TimeSpan.FromSeconds(builder.Configuration.GetValue("Reimage:Demo:LeaseSeconds", 300)),
        };
        builder.Services.AddSingleton(options);
        builder.Services.AddHostedService<DemoRunner>();
        return builder;
    }
}

internal sealed class DemoRunner(
    IDbContextFactory<ReimageDbContext> contexts, NpgsqlDataSource db, FleetImporter importer, WavePlanner waves,
    AgentCommandQueue queue, WorkflowKick kick, DemoOptions options, TimeProvider clock, ILoggerFactory loggers) : BackgroundService
{
    private static readonly Actor DemoActor = new("demo", "demo-seed");
    private readonly ILogger _logger = loggers.CreateLogger<DemoRunner>();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await SeedIfEmptyAsync(stoppingToken);
        await using var context = await contexts.CreateDbContextAsync(stoppingToken);
        var sites = await context.Sites.AsNoTracking().ToListAsync(stoppingToken);
        var fleet = new SimulatedFleet(new SimulatedFleetOptions { Speed = options.Speed }, clock);
        _logger.LogInformation("Demo: running the simulated fleet at {Speed}× real time with one agent for each of {Sites} sites", options.Speed, sites.Count);
        await Task.WhenAll(sites.Select(site => new SiteAgent(
            new InProcessAgentTransport(queue, kick, site.Id, $"demo-agent-{site.Code}", options.Lease),
            fleet, new SiteAgentOptions(), clock, loggers.CreateLogger<SiteAgent>()).RunAsync(stoppingToken)));
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
            var entity = new Site { Id = Guid.CreateVersion7(), Code = site.Code, Name = site.Name, TimeZone = site.TimeZone, ImagingSlots = site.ImagingSlots, CreatedAt = now };
            context.Sites.Add(entity);
            for (var t = 1; t <= site.Technicians; t++)
            {
                context.Technicians.Add(new Technician { Id = Guid.CreateVersion7(), SiteId = entity.Id, Name = $"{site.Code} technician {t}", Building = $"B{1 + (t % 4)}" });
            }
        }

        await context.SaveChangesAsync(ct);

        await using var csv = new MemoryStream(Encoding.UTF8.GetBytes(DemoFleet.Csv()));
        var report = await importer.ImportAsync(csv, new ImportOptions(), DemoActor, ct);
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
