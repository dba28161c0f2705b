using Reimage.Orchestrator.Forecast;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Tests.Forecast;

/// <summary>
/// Small random plans that reach every corner of the model: several sites in different zones, day and night
/// shifts, USB sites waiting for couriered media, spares that run out before a delivery, gates, failures, a shared
/// imaging link, machines already in progress. Each plan comes from its seed, so a failing case can be replayed.
/// </summary>
internal static class GeneratedPlans
{
    private static readonly string[] Zones = ["UTC", "Asia/Riyadh", "Europe/Copenhagen", "America/New_York"];
    private static readonly string[] Drives = ["NVMe-512", "SATA-SSD-256"];
    private static readonly DateTimeOffset Monday = new(2026, 3, 23, 6, 0, 0, TimeSpan.Zero);

    public static ForecastPlan Create(int seed, bool deterministicDurations = false, int? machines = null)
    {
        var random = new Random(seed);
        var sites = Enumerable.Range(0, random.Next(1, 4)).Select(s => Site(random, s)).ToList();
        var waves = new List<ForecastWave> { new(Id(random), "Identity", 1, []) };
        if (random.Next(3) > 0)
        {
            waves.Add(new ForecastWave(Id(random), "Core", 2, [new ForecastGate(waves[0].Id, random.Next(50, 101))]));
        }

        if (random.Next(3) == 0)
        {
            waves.Add(new ForecastWave(Id(random), "Everyone", waves.Count + 1, [new ForecastGate(waves[^1].Id, random.Next(1, 101))]));
        }

        var fleet = Enumerable.Range(0, machines ?? random.Next(1, 60)).Select(i => Machine(random, i, sites[random.Next(sites.Count)], waves[random.Next(waves.Count)])).ToList();
        var durations = StepDurations.Typical.Defaults.ToDictionary(d => d.Key, d => deterministicDurations
            ? d.Value with { Spread = 0, FailureRate = 0 }
            : d.Value with { FailureRate = random.Next(3) == 0 ? 0.2 : d.Value.FailureRate });
        return new ForecastPlan(Monday.AddHours(random.Next(0, 48)), sites, waves, fleet, new StepDurations(durations))
        {
            Walking = random.Next(2) == 0 ? WalkingTimes.Default : WalkingTimes.None,
        };
    }

    private static ForecastSite Site(Random random, int s)
    {
        var usb = random.Next(4) == 0;
        var technicians = Enumerable.Range(0, random.Next(0, 5)).Select(t => new ForecastTechnician(Id(random), $"T{s}{t}", $"B{random.Next(2)}",
            random.Next(4) switch
            {
                0 => [new ForecastShift(ShiftDays.EveryDay, new TimeOnly(7, 0), new TimeOnly(15, 0))],
                1 => [new ForecastShift(ShiftDays.Weekdays, new TimeOnly(22, 0), new TimeOnly(6, 0))],
                2 => [new ForecastShift(ShiftDays.EveryDay, new TimeOnly(0, 0), new TimeOnly(0, 0))],
                _ => [new ForecastShift(ShiftDays.Weekdays, new TimeOnly(8, 0), new TimeOnly(12, 0)), new ForecastShift(ShiftDays.Weekdays, new TimeOnly(13, 0), new TimeOnly(17, 30))],
            })).ToList();
        var spares = Drives.ToDictionary(d => d, _ => random.Next(0, 8));
        var deliveries = new List<ForecastDelivery>();
        if (random.Next(2) == 0)
        {
            deliveries.Add(new ForecastDelivery(Drives[random.Next(Drives.Length)], random.Next(1, 30), Monday.AddHours(random.Next(1, 96))));
        }

        if (usb)
        {
            deliveries.Add(new ForecastDelivery(SpareStock.UsbMedia, random.Next(1, 4), Monday.AddHours(random.Next(1, 72))));
        }

        return new ForecastSite(Id(random), $"S{s}", Zones[random.Next(Zones.Length)], random.Next(1, 6), random.Next(1, 4), technicians, spares, deliveries,
            usb, usb ? random.Next(0, 2) : 0)
        {
            ImagingBytesPerSecond = !usb && random.Next(3) == 0 ? random.Next(5, 100) * 1_000_000.0 : null,
            ImageBytes = 12_000_000_000,
        };
    }

    private static ForecastMachine Machine(Random random, int i, ForecastSite site, ForecastWave wave)
    {
        var path = (RecoveryPath)random.Next(3);
        var machine = new ForecastMachine(Id(random), $"PC{i:D4}", site.Id, wave.Id, path, random.Next(1, 5),
            $"B{random.Next(2)}", random.Next(3).ToString(System.Globalization.CultureInfo.InvariantCulture), $"R{random.Next(10)}",
            Drives[random.Next(Drives.Length)], RemoteBoot: random.Next(5) > 0);
        return random.Next(10) switch
        {
            0 => machine with { State = RecoveryState.Restored },
            1 => machine with { State = RecoveryState.InProgress, Step = RandomStep(random, RecoveryPaths.Steps(path, machine.RemoteBoot)) },
            2 => machine with { State = RecoveryState.Failed },
            3 => machine with { State = RecoveryState.AwaitingParts },
            _ => machine,
        };
    }

    private static Step RandomStep(Random random, IReadOnlyList<StepDefinition> steps) => steps[random.Next(steps.Count)].Step;

    private static Guid Id(Random random)
    {
        var bytes = new byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }
}
