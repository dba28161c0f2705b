using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Machines;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Bench.Forecast.Accuracy;

/// <summary>
/// The plan the accuracy drills recover: three sites in three time zones with day, evening and night rosters (one
/// site's day crew works weekdays only), few imaging slots so that the work takes about a day, drive replacements
/// short of spares at one site until a delivery arrives, machines a technician must boot by hand, servers booted
/// through their BMC, and a second wave gated on 80 % of the first. Identifiers come from a fixed seed, so every
/// drill starts from the same rows and only the world's dice differ.
/// </summary>
public static class AccuracyFleet
{
    /// <summary>A Monday, 06:00 UTC, far from any clock change.</summary>
    public static DateTimeOffset Start { get; } = new(2026, 2, 2, 6, 0, 0, TimeSpan.Zero);

    private sealed record CrewMember(string Name, string Building, ShiftDays Days, int Starts, int Ends);

    private sealed record SiteSpec(string Code, string TimeZone, double Share, int Slots, string Disk, int Stock, int Delivered, double DeliveryHours, CrewMember[] Crew);

    private static readonly SiteSpec[] Sites =
    [
        new("LHR", "Europe/London", 0.45, 6, "ssd-512", 10, 20, 20,
            [new("Asha", "A", ShiftDays.EveryDay, 7, 19), new("Ben", "B", ShiftDays.EveryDay, 7, 19), new("Cleo", "A", ShiftDays.EveryDay, 19, 7)]),
        new("JFK", "America/New_York", 0.35, 5, "ssd-256", 40, 0, 0,
            [new("Dev", "A", ShiftDays.Weekdays, 8, 18), new("Eli", "B", ShiftDays.Weekdays, 8, 18), new("Fay", "A", ShiftDays.EveryDay, 14, 23)]),
        new("SIN", "Asia/Singapore", 0.20, 4, "hdd-1tb", 20, 0, 0,
            [new("Gus", "A", ShiftDays.EveryDay, 8, 20), new("Hui", "B", ShiftDays.EveryDay, 20, 8)]),
    ];

    public const string FirstWave = "Critical systems";

    /// <summary>Writes the plan into an empty, migrated database and launches its waves, all at <paramref name="clock"/>'s now.</summary>
    internal static async Task SeedAsync(NpgsqlDataSource db, TimeProvider clock, int machines, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(machines, Sites.Length);
        var ids = new Random(20_260_202);
        Guid NextId()
        {
            Span<byte> bytes = stackalloc byte[16];
            ids.NextBytes(bytes);
            return new Guid(bytes);
        }

        var now = clock.GetUtcNow();
        var options = new DbContextOptionsBuilder<ReimageDbContext>();
        Storage.Configure(options, db);
        var critical = new List<Guid>();
        var rest = new List<Guid>();
        await using (var context = new ReimageDbContext(options.Options))
        {
            foreach (var spec in Sites)
            {
                var site = new Site
                {
                    Id = NextId(), Code = spec.Code, Name = $"{spec.Code} site", TimeZone = spec.TimeZone, ImagingSlots = spec.Slots,
                    HandsOnPerTechnician = 3, CreatedAt = now,
                };
                context.Sites.Add(site);
                foreach (var member in spec.Crew)
                {
                    var technician = new Technician { Id = NextId(), SiteId = site.Id, Name = $"{member.Name} ({spec.Code})", Building = member.Building };
                    context.Technicians.Add(technician);
                    context.Shifts.Add(new Shift
                    {
                        Id = NextId(), TechnicianId = technician.Id, Days = member.Days,
                        Starts = new TimeOnly(member.Starts, 0), Ends = new TimeOnly(member.Ends, 0),
                    });
                }

                context.SpareStock.Add(new SpareStock { SiteId = site.Id, Item = spec.Disk, OnHand = spec.Stock });
                if (spec.Delivered > 0)
                {
                    context.Deliveries.Add(new Delivery
                    {
                        Id = NextId(), SiteId = site.Id, Item = spec.Disk, Quantity = spec.Delivered, Reference = "drill courier",
                        ExpectedAt = now.AddHours(spec.DeliveryHours), CreatedAt = now,
                    });
                }

                var count = (int)Math.Round(machines * spec.Share);
                for (var k = 0; k < count; k++)
                {
                    var server = spec.Code == "SIN" && k % 6 == 3;
                    var path = server ? RecoveryPath.ServerViaBmc : k % 5 == 2 ? RecoveryPath.DriveReplacement : RecoveryPath.Reformat;
                    var floor = 1 + (k / 2 % 3);
                    var machine = new Machine
                    {
                        Id = NextId(), Hostname = $"{spec.Code}-{(server ? "SRV" : "PC")}{k:D4}", SerialNumber = $"{spec.Code}SN{k:D6}", SiteId = site.Id,
                        Building = k % 2 == 0 ? "A" : "B", Floor = floor.ToString(System.Globalization.CultureInfo.InvariantCulture), Room = $"{floor}0{k % 5}",
                        Role = server ? MachineRole.Server : MachineRole.Workstation, Criticality = 1 + (k % 4), DiskType = spec.Disk,
                        // Some workstations have no MAC on record: a technician starts their network boot by hand.
                        MacAddresses = path == RecoveryPath.Reformat && k % 9 == 4 ? [] : [$"02:00:{Array.IndexOf(Sites, spec):X2}:00:{k >> 8:X2}:{k & 0xFF:X2}"],
                        BmcAddress = server ? $"10.{Array.IndexOf(Sites, spec)}.9.{k % 250}" : null,
                        CreatedAt = now, UpdatedAt = now,
                    };
                    context.Machines.Add(machine);
                    context.Recoveries.Add(new Recovery { MachineId = machine.Id, State = RecoveryState.NotPlanned, Path = path, StateChangedAt = now });
                    (machine.Criticality == 1 ? critical : rest).Add(machine.Id);
                }
            }

            await context.SaveChangesAsync(ct);
        }

        var planner = new WavePlanner(new PooledDbContextFactory<ReimageDbContext>(options.Options), db, new TransitionWriter(clock),
            new WorkflowKick(new DrillJobs()), clock);
        var lead = Actor.System("accuracy-drill");
        var first = await planner.CreateAsync(FirstWave, 1, ct);
        var second = await planner.CreateAsync("Everything else", 2, ct);
        await planner.AddMachinesAsync(first.Id, critical, lead, ct);
        await planner.AddMachinesAsync(second.Id, rest, lead, ct);
        await planner.SetGateAsync(second.Id, first.Id, 80, ct);
        foreach (var wave in new[] { first, second })
        {
            await planner.ApproveAsync(wave.Id, lead, ct);
            await planner.LaunchAsync(wave.Id, lead, ct);
        }
    }
}
