using Reimage.Orchestrator.Forecast;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Tests.Forecast;

/// <summary>
/// The simulator keeps every limit at every instant, checked from its trace by recounting from the plan — not from the
/// simulator's own counters: slots (bounded by the USB media that had arrived), hands-on places of the technicians on
/// shift (read with <see cref="Shift.Covers"/>), spares on the shelf, gates, and each technician at one machine at a
/// time and only while on shift. Many generated plans, each named by its seed.
/// </summary>
public sealed class SimulationLimitsTests
{
    private const int Cases = 400;

    [Fact]
    public void Run_KeepsEveryLimitAtEveryInstant()
    {
        var (admitted, segments, failed, unfinished, rounds) = (0, 0, 0, 0, 0);
        for (var seed = 0; seed < Cases; seed++)
        {
            var plan = GeneratedPlans.Create(seed);
            var trace = new SimulationTrace();
            var options = new SimulationOptions
            {
                Trace = trace,
                Policy = seed % 3 == 0 ? DispatchPolicy.FifoBaseline : DispatchPolicy.Live,
                RoundLimit = seed % 5 == 0 ? 2 : int.MaxValue,
                DispatchInterval = seed % 7 == 0 ? TimeSpan.FromMinutes(1) : TimeSpan.Zero,
            };

            var result = ForecastSimulation.Run(plan, seed, options);

            new LimitCheck(plan, $"seed {seed}").Check(trace, result);
            admitted += trace.Log.Count(e => e.Kind == TraceKind.Admitted);
            segments += trace.HandsOn.Count;
            (failed, unfinished, rounds) = (failed + result.Failed, unfinished + result.Unfinished, rounds + trace.Rounds);
        }

        // The cases must reach the corners they are meant to: plenty of admissions and hands-on work, failures, and stuck plans.
        TestContext.Current.SendDiagnosticMessage($"admitted {admitted}, hands-on segments {segments}, failed {failed}, unfinished {unfinished}, rounds {rounds}");
        Assert.True(admitted > 5000 && segments > 2000 && failed > 50 && unfinished > 0, $"admitted {admitted}, segments {segments}, failed {failed}, unfinished {unfinished}");
    }

    [Fact]
    public void Run_AdmitsNothingOfAGatedWave_BeforeItsPrerequisiteIsRestored()
    {
        var plan = ForecastSimulationTests.Tiny(slots: 2, WalkingTimes.None);
        var later = new ForecastWave(Guid.NewGuid(), "Everyone", 2, [new ForecastGate(plan.Waves[0].Id, 100)]);
        var extra = plan.Machines[0] with { Id = Guid.NewGuid(), Hostname = "PC0", WaveId = later.Id, Criticality = 1 };
        plan = plan with { Waves = [plan.Waves[0], later], Machines = [.. plan.Machines, extra] };
        var trace = new SimulationTrace();

        var result = ForecastSimulation.Run(plan, 1, new SimulationOptions { Trace = trace });

        var admitted = trace.Log.Single(e => e.Kind == TraceKind.Admitted && e.Machine == 2).At;
        Assert.Equal(result.WaveMakespan[plan.Waves[0].Id]!.Value.TotalSeconds, admitted, precision: 6);
    }
}

/// <summary>Replays a trace against the plan and asserts each limit.</summary>
internal sealed class LimitCheck(ForecastPlan plan, string context)
{
    private readonly Dictionary<Guid, int> _site = plan.Sites.Select((s, i) => (s.Id, i)).ToDictionary(x => x.Id, x => x.i);
    private readonly Dictionary<Guid, int> _wave = plan.Waves.Select((w, i) => (w.Id, i)).ToDictionary(x => x.Id, x => x.i);

    public void Check(SimulationTrace trace, SimulationResult result)
    {
        var sites = plan.Sites.Count;
        var (slots, hands) = (new int[sites], new int[sites]);
        var reserved = new Dictionary<(int, string), int>();
        var consumed = new Dictionary<(int, string), int>();
        var (restored, failed) = (new int[plan.Waves.Count], new int[plan.Waves.Count]);
        var counted = new int[plan.Waves.Count];
        for (var i = 0; i < plan.Machines.Count; i++)
        {
            var m = plan.Machines[i];
            if (m.State is RecoveryState.Failed)
            {
                continue;
            }

            counted[_wave[m.WaveId]]++;
            restored[_wave[m.WaveId]] += m.State == RecoveryState.Restored ? 1 : 0;
            if (m.State == RecoveryState.InProgress)
            {
                var steps = RecoveryPaths.Steps(m.Path, m.RemoteBoot && m.Step != Step.ManualBoot);
                var at = steps.Select(s => s.Step).ToList().IndexOf(m.Step!.Value);
                slots[_site[m.SiteId]] += steps[at].UsesImagingSlot ? 1 : 0;
                hands[_site[m.SiteId]] += steps[at].Kind == StepKind.HandsOn ? 1 : 0;
                if (m.Path == RecoveryPath.DriveReplacement && at <= 1)
                {
                    Add(reserved, (_site[m.SiteId], m.DiskType!), 1);
                }
            }
        }

        foreach (var (kind, i, at) in trace.Log)
        {
            var m = plan.Machines[i];
            var (s, w, part) = (_site[m.SiteId], _wave[m.WaveId], (_site[m.SiteId], m.DiskType!));
            switch (kind)
            {
                case TraceKind.Admitted:
                    Assert.True(m.State is RecoveryState.Queued or RecoveryState.AwaitingParts, $"{context}: {m.Hostname} admitted from {m.State}");
                    Assert.True(++slots[s] <= SlotCapacity(s, at), $"{context}: {plan.Sites[s].Code} over its slots at {at}");
                    if (RecoveryPaths.First(m.Path, m.RemoteBoot).Kind == StepKind.HandsOn)
                    {
                        Assert.True(++hands[s] <= OnShift(s, at) * plan.Sites[s].HandsOnPerTechnician, $"{context}: {plan.Sites[s].Code} over its hands-on places at {at}");
                    }

                    if (m.Path == RecoveryPath.DriveReplacement)
                    {
                        Add(reserved, part, 1);
                        Assert.True(reserved[part] <= OnHand(s, m.DiskType!, at) - consumed.GetValueOrDefault(part), $"{context}: {m.DiskType} promised beyond the shelf at {at}");
                    }

                    foreach (var gate in plan.Waves[w].Gates)
                    {
                        var p = _wave[gate.DependsOnWaveId];
                        Assert.True(restored[p] * 100L >= gate.RestoredPercent * (long)(counted[p] - failed[p]), $"{context}: {m.Hostname} admitted through a closed gate at {at}");
                    }

                    break;
                case TraceKind.SlotReleased:
                    Assert.True(--slots[s] >= 0, context);
                    break;
                case TraceKind.HandsOnLeft:
                    Assert.True(--hands[s] >= 0, context);
                    break;
                case TraceKind.PartConsumed:
                    Add(reserved, part, -1);
                    Add(consumed, part, 1);
                    Assert.True(reserved[part] >= 0, $"{context}: a drive fitted without a reservation");
                    break;
                case TraceKind.PartReleased:
                    Add(reserved, part, -1);
                    break;
                case TraceKind.Restored:
                    restored[w]++;
                    Assert.Equal(at, result.Completion[i]!.Value.TotalSeconds, precision: 3);
                    break;
                case TraceKind.Failed:
                    failed[w]++;
                    break;
                default:
                    throw new InvalidOperationException(kind.ToString());
            }
        }

        CheckTechnicians(trace);
        Assert.Equal(result.Restored, restored.Sum());
        Assert.Equal(result.Failed, failed.Sum());
    }

    /// <summary>Each technician at one machine at a time, of their own site, and only while on shift.</summary>
    private void CheckTechnicians(SimulationTrace trace)
    {
        var technicians = plan.Sites.SelectMany((site, s) => site.Technicians.Select(t => (Site: s, Technician: t))).ToList();
        foreach (var segments in trace.HandsOn.GroupBy(h => h.Technician))
        {
            var (s, technician) = technicians[segments.Key];
            var previous = double.NegativeInfinity;
            foreach (var (machine, _, step, from, to) in segments.OrderBy(h => h.From))
            {
                Assert.Equal(s, _site[plan.Machines[machine].SiteId]);
                Assert.True(from >= previous - 1e-6, $"{context}: {technician.Name} at two machines at {from}");
                for (var at = from; at < to; at += Math.Max(1, Math.Min(60, to - at - 1e-3)))
                {
                    Assert.True(Covers(s, technician, at), $"{context}: {technician.Name} at {step} off shift at {at}");
                }

                previous = to;
            }
        }
    }

    private int SlotCapacity(int s, double at)
    {
        var site = plan.Sites[s];
        return site.ImagesFromUsb ? Math.Min(site.ImagingSlots, site.UsbMedia + Delivered(site, SpareStock.UsbMedia, at)) : site.ImagingSlots;
    }

    private int OnHand(int s, string item, double at) => plan.Sites[s].Spares.GetValueOrDefault(item) + Delivered(plan.Sites[s], item, at);

    private int Delivered(ForecastSite site, string item, double at) =>
        site.Deliveries.Where(d => d.Item == item && (d.ArrivesAt - plan.Start).TotalSeconds <= at).Sum(d => d.Quantity);

    private int OnShift(int s, double at) => plan.Sites[s].Technicians.Count(t => Covers(s, t, at));

    private bool Covers(int s, ForecastTechnician technician, double at)
    {
        var local = TimeZoneInfo.ConvertTime(plan.Start.AddSeconds(at), TimeZoneInfo.FindSystemTimeZoneById(plan.Sites[s].TimeZone)).DateTime;
        return technician.Shifts.Any(shift => Shift.Covers(shift.Days, shift.Starts, shift.Ends, local));
    }

    private static void Add<TKey>(Dictionary<TKey, int> counts, TKey key, int by)
        where TKey : notnull => counts[key] = counts.GetValueOrDefault(key) + by;
}
