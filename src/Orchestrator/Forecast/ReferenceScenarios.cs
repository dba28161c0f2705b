using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// The reference scenarios (aramco-like, maersk-like, small), stored as parameters in embedded JSON and generated
/// into a plan with the scenario's own seed: the same name always gives the same fleet, to the last host name.
/// </summary>
public static class ReferenceScenarios
{
    public static IReadOnlyList<string> Names { get; } = ["aramco-like", "maersk-like", "small"];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    public static ForecastPlan Load(string name) => Generate(Parameters(name), scale: 1);

    /// <summary>The scenario grown (or shrunk) to about <paramref name="machines"/> machines: more sites of each kind and more machines per site, same shape.</summary>
    public static ForecastPlan Load(string name, int machines)
    {
        var parameters = Parameters(name);
        var total = parameters.SiteGroups.Sum(g => g.Workstations + g.Servers + g.DomainControllers);
        return Generate(parameters, (double)machines / total);
    }

    internal static ScenarioParameters Parameters(string name)
    {
        if (!Names.Contains(name))
        {
            throw new ArgumentException($"No reference scenario \"{name}\"; there are {string.Join(", ", Names)}.", nameof(name));
        }

        using var stream = typeof(ReferenceScenarios).Assembly.GetManifestResourceStream($"Reimage.Orchestrator.Forecast.Scenarios.{name}.json")
            ?? throw new InvalidOperationException($"The scenario {name} is not embedded in the assembly.");
        return JsonSerializer.Deserialize<ScenarioParameters>(stream, Json) ?? throw new InvalidOperationException($"The scenario {name} is empty.");
    }

    private static ForecastPlan Generate(ScenarioParameters p, double scale)
    {
        var random = new Random(p.Seed);
        var waves = p.Waves.Select((w, i) => (Parameters: w, Wave: new ForecastWave(Id(random), w.Name, i + 1, []))).ToList();
        var byName = waves.ToDictionary(w => w.Parameters.Name, w => w.Wave.Id);
        var forecastWaves = waves.Select(w => w.Wave with
        {
            Gates = [.. w.Parameters.Gates.Select(g => new ForecastGate(byName[g.Wave], g.RestoredPercent))],
        }).ToList();
        var waveFor = waves.GroupBy(w => w.Parameters.Role).ToDictionary(g => g.Key, g => g.First().Wave.Id);
        var sites = new List<ForecastSite>();
        var machines = new List<ForecastMachine>();
        foreach (var group in p.SiteGroups)
        {
            new SiteGroupGenerator(group, random, p.Start, waveFor).Generate(scale, sites, machines);
        }

        var durations = p.Durations.ToDictionary(d => d.Key, d => new StepDuration(TimeSpan.FromMinutes(d.Value.Median), d.Value.Spread, d.Value.FailureRate));
        return new ForecastPlan(p.Start, sites, forecastWaves, machines, new StepDurations(durations))
        {
            Walking = new WalkingTimes(TimeSpan.FromMinutes(p.Walking.FloorChange), TimeSpan.FromMinutes(p.Walking.BuildingChange)),
        };
    }

    internal static Guid Id(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }

    /// <summary>Turns one site group into sites and machines.</summary>
    private sealed class SiteGroupGenerator(SiteGroup g, Random random, DateTimeOffset start, Dictionary<WaveRole, Guid> waves)
    {
        public void Generate(double scale, List<ForecastSite> sites, List<ForecastMachine> machines)
        {
            var count = g.Sites == 1 ? 1 : Math.Max(1, (int)Math.Round(g.Sites * scale));
            var weights = Enumerable.Range(0, count).Select(_ => Math.Exp(g.SizeSpread * Normal())).ToArray();
            var (workstations, servers, controllers) = (Split(g.Workstations * scale, weights), Split(g.Servers * scale, weights), Split(g.DomainControllers * scale, weights));
            for (var s = 0; s < count; s++)
            {
                var code = count == 1 ? g.Code : string.Create(CultureInfo.InvariantCulture, $"{g.Code}{s + 1:D3}");
                sites.Add(Site(code, g.TimeZones[s % g.TimeZones.Count], workstations[s], servers[s], controllers[s], machines));
            }
        }

        private ForecastSite Site(string code, string zone, int workstations, int servers, int controllers, List<ForecastMachine> machines)
        {
            var id = Id(random);
            var size = workstations + servers + controllers;
            var perBuilding = g.MachinesPerFloor * g.FloorsPerBuilding;
            var buildings = Math.Max(1, (size + perBuilding - 1) / perBuilding);
            var first = machines.Count;
            for (var i = 0; i < size; i++)
            {
                var (role, path, criticality) = i < controllers ? (WaveRole.DomainControllers, RecoveryPath.ServerViaBmc, 1)
                    : i < controllers + servers ? (WaveRole.Servers, RecoveryPath.ServerViaBmc, 2)
                    : random.NextDouble() < g.CriticalShare ? (WaveRole.CriticalWorkstations, Workstation(), 2 + random.Next(2))
                    : (WaveRole.Workstations, Workstation(), 3 + random.Next(2));
                var server = path == RecoveryPath.ServerViaBmc;
                var building = server ? "DC" : $"B{random.Next(buildings) + 1}";
                machines.Add(new ForecastMachine(Id(random), string.Create(CultureInfo.InvariantCulture, $"{code}-{(server ? "SRV" : "WS")}{i + 1:D5}"), id,
                    waves.GetValueOrDefault(role, waves.Values.Last()), path, criticality, building,
                    server ? "0" : (1 + random.Next(g.FloorsPerBuilding)).ToString(CultureInfo.InvariantCulture),
                    $"R{random.Next(1, 40):D2}", path == RecoveryPath.DriveReplacement ? Drive() : null, random.NextDouble() < g.RemoteBoot)
                {
                    ImageBytes = server ? (long)(g.ServerImageGigabytes * 1e9) : null,
                });
            }

            var demand = machines.Skip(first).Where(m => m.DiskType is not null).GroupBy(m => m.DiskType!).ToDictionary(d => d.Key, d => d.Count());
            var usb = random.NextDouble() < g.UsbShare;
            var slots = Math.Max(g.MinimumSlots, (int)Math.Round(size * g.SlotsPerThousand / 1000));
            var deliveries = g.Deliveries.SelectMany(d => demand.Select(x => new ForecastDelivery(x.Key, (int)Math.Ceiling(x.Value * d.Share), start.AddHours(d.AfterHours))))
                .Where(d => d.Quantity > 0).ToList();
            if (usb)
            {
                deliveries.Add(new ForecastDelivery(SpareStock.UsbMedia, slots, start.AddHours(g.UsbCourierHoursMin + (random.NextDouble() * (g.UsbCourierHoursMax - g.UsbCourierHoursMin)))));
            }

            var technicians = g.Shifts.SelectMany((shift, k) => Enumerable.Range(0, Math.Max(shift.Minimum, (int)Math.Round(size * shift.PerThousand / 1000)))
                .Select(t => new ForecastTechnician(Id(random), string.Create(CultureInfo.InvariantCulture, $"{code}-T{k + 1}-{t + 1:D3}"), $"B{random.Next(buildings) + 1}",
                    [new ForecastShift(shift.Days, shift.Starts, shift.Ends)]))).ToList();
            return new ForecastSite(id, code, zone, slots, g.HandsOnPerTechnician, technicians,
                demand.ToDictionary(d => d.Key, d => (int)Math.Round(d.Value * g.SparesOnHand)), deliveries, usb, UsbMedia: 0)
            {
                ImagingBytesPerSecond = g.BandwidthMbps * 125_000,
                ImageBytes = (long)(g.ImageGigabytes * 1e9),
            };
        }

        private RecoveryPath Workstation() => random.NextDouble() < g.DriveReplacement ? RecoveryPath.DriveReplacement : RecoveryPath.Reformat;

        private string Drive()
        {
            var roll = random.NextDouble();
            foreach (var (drive, share) in g.Drives)
            {
                if ((roll -= share) < 0)
                {
                    return drive;
                }
            }

            return g.Drives.Keys.Last();
        }

        private double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

        /// <summary>Splits a total over sites in proportion to their weights, exactly (largest remainders).</summary>
        private static int[] Split(double total, double[] weights)
        {
            var whole = (int)Math.Round(total);
            var sum = weights.Sum();
            var exact = weights.Select(w => whole * w / sum).ToArray();
            var parts = exact.Select(x => (int)Math.Floor(x)).ToArray();
            foreach (var i in Enumerable.Range(0, weights.Length).OrderByDescending(i => exact[i] - parts[i]).Take(whole - parts.Sum()))
            {
                parts[i]++;
            }

            return parts;
        }
    }
}
