using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// What no dispatcher could beat at one site, each term a resource that must carry the site's remaining work. Null
/// means never (no technician ever on shift for hands-on work, no slot ever, a part that never comes).
/// </summary>
/// <param name="HandsOn">Technician time: hands-on work ÷ technicians on shift, walking the rosters.</param>
/// <param name="Slots">Bench time: slot-holding work ÷ slots (USB media bound them at a USB site, as they arrive).</param>
/// <param name="Bandwidth">Image bytes ÷ the link's bytes per second, when the plan gives a link.</param>
/// <param name="Parts">When the last spare needed arrives, plus the shortest path after admission.</param>
/// <param name="LongestPath">The longest single machine's remaining steps.</param>
/// <param name="AfterDeliveries">
/// Work that waits for parts: for each delivery, the hands-on work of the machines that cannot be admitted before it
/// arrives, done by the technicians on shift after it, then the rest of such a machine's path (and the same for
/// bench time on the slots). Zero when the shelf covers every machine.
/// </param>
public sealed record SiteBound(Guid SiteId, TimeSpan? HandsOn, TimeSpan? Slots, TimeSpan? Bandwidth, TimeSpan? Parts, TimeSpan LongestPath,
    TimeSpan? AfterDeliveries)
{
    public TimeSpan? Bound => HandsOn is null || Slots is null || Parts is null || AfterDeliveries is null ? null
        : new[] { HandsOn.Value, Slots.Value, Bandwidth ?? TimeSpan.Zero, Parts.Value, LongestPath, AfterDeliveries.Value }.Max();
}

/// <summary>The plan's physical lower bound: the latest of its sites' (sites share nothing the model knows of).</summary>
public sealed record PlanBound(TimeSpan? Fleet, IReadOnlyDictionary<Guid, SiteBound> Sites);

/// <summary>
/// The physical lower bound of a plan, per site and for the fleet, from step medians. For site s, over its machines
/// not yet Restored (from the step each is at, with no failures and no walking):
/// <code>
/// bound(s) = max( T such that ∫₀ᵀ technicians_on_shift(s, t) dt = Σ medians of remaining hands-on steps,
///                 T such that ∫₀ᵀ slots(s, t) dt = Σ medians of remaining slot-holding steps,
///                 Σ image bytes of machines still to image ÷ link bytes per second   (when the site has a link),
///                 arrival of the spare that covers the demand + shortest full path of a machine needing one,
///                 max over machines of Σ medians of its remaining steps,
///                 max over delivery times r of the work released at r (below) )
/// bound(fleet) = max over sites of bound(s)
/// </code>
/// technicians_on_shift is read with <see cref="Shift.Covers"/>; slots(s, t) is the site's slots, at a USB site
/// min(slots, USB media arrived by t), never below the machines already holding slots at the start. Each term is a
/// resource the simulation cannot exceed (nobody works off shift; one machine per technician and per slot; the link
/// shares its bandwidth), so a simulated makespan with durations at their medians is never below it; with random
/// durations a lucky run can come in slightly under. Efficiency = forecast P50 ÷ this bound.
/// <para>
/// Work released at r: a machine that needs a drive is admitted only with one reserved, so of the N machines waiting for
/// drive type p at most (on the shelf − promised + delivered before r) start before r; the rest, and all their hands-on
/// and bench work, come after r. Taking the machines with the least such work, that is W(r) technician-seconds and
/// B(r) slot-seconds, and the term is max(T with ∫ᵣᵀ technicians_on_shift = W(r), r + B(r) ÷ slots) plus the shortest
/// rest of a path after the last hands-on (respectively slot) step of such a machine.
/// </para>
/// </summary>
public static class PhysicalBound
{
    private const double Horizon = 365 * 86_400.0;

    public static PlanBound Of(ForecastPlan plan) => Of(new CompiledPlan(plan, DispatchPolicy.Live));

    internal static PlanBound Of(CompiledPlan plan)
    {
        var sites = plan.Plan.Sites;
        var (hands, slotWork, bytes, path) = (new double[sites.Count], new double[sites.Count], new double[sites.Count], new double[sites.Count]);
        var holding = new int[sites.Count];
        var shortest = new Dictionary<(int Site, int Part), (int Count, double Path)>();
        var promised = new Dictionary<(int Site, int Part), int>();
        var waiting = new Dictionary<(int Site, int Part), List<PartWork>>();
        for (var i = 0; i < plan.MachineCount; i++)
        {
            if (plan.Start[i] is StartingPoint.Restored or StartingPoint.Out)
            {
                continue;
            }

            var (s, steps, durations) = (plan.MachineSite[i], plan.Steps[i], plan.Durations[i]);
            var from = plan.Start[i] == StartingPoint.InProgress ? plan.StartStep[i] : 0;
            holding[s] += plan.Start[i] == StartingPoint.InProgress && steps[from].UsesImagingSlot ? 1 : 0;
            var remaining = 0.0;
            for (var k = from; k < steps.Length; k++)
            {
                var seconds = durations[k].Median.TotalSeconds;
                remaining += seconds;
                hands[s] += steps[k].Kind == StepKind.HandsOn ? seconds : 0;
                slotWork[s] += steps[k].UsesImagingSlot ? seconds : 0;
                bytes[s] += steps[k].Step == Step.Imaging ? plan.ImageBytes[i] : 0;
            }

            path[s] = Math.Max(path[s], remaining);
            var part = (s, plan.MachinePart[i]);
            if (part.Item2 < 0)
            {
                continue;
            }

            if (plan.Start[i] == StartingPoint.Waiting)
            {
                var (count, shortestPath) = shortest.GetValueOrDefault(part, (0, double.PositiveInfinity));
                shortest[part] = (count + 1, Math.Min(shortestPath, remaining));
                if (!waiting.TryGetValue(part, out var works))
                {
                    waiting[part] = works = [];
                }

                works.Add(PartWork.Of(steps, durations));
            }
            else if (from <= Array.FindIndex(steps, d => d.Step == Step.InstallDrive))
            {
                promised[part] = promised.GetValueOrDefault(part) + 1;
            }
        }

        var bounds = sites.Select((site, s) => new SiteBound(site.Id,
            Span(Covering(hands[s], t => plan.Calendars[t], plan.SiteTechnicians[s])),
            Span(Covering(slotWork[s], SlotSteps(plan, s, holding[s]))),
            site.ImagingBytesPerSecond > 0 && !site.ImagesFromUsb ? TimeSpan.FromSeconds(bytes[s] / site.ImagingBytesPerSecond.Value) : null,
            Span(PartsArrive(plan, s, shortest, promised)),
            TimeSpan.FromSeconds(path[s]),
            Span(AfterDeliveries(plan, s, waiting, promised)))).ToList();
        var fleet = bounds.Aggregate((TimeSpan?)TimeSpan.Zero, (max, b) => max is null || b.Bound is null ? null : max > b.Bound ? max : b.Bound);
        return new PlanBound(fleet, bounds.ToDictionary(b => b.SiteId));
    }

    private static TimeSpan? Span(double seconds) => ForecastSimulation.Span(seconds);

    /// <summary>A waiting machine's hands-on and bench work, and the shortest rest of its path after each.</summary>
    private readonly record struct PartWork(double HandsOn, double Slots, double AfterHandsOn, double AfterSlots)
    {
        public static PartWork Of(StepDefinition[] steps, StepDuration[] durations)
        {
            var (hands, slots, afterHands, afterSlots, rest) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (var k = steps.Length - 1; k >= 0; k--)
            {
                var seconds = durations[k].Median.TotalSeconds;
                if (steps[k].Kind == StepKind.HandsOn)
                {
                    afterHands = hands == 0 ? rest : afterHands;
                    hands += seconds;
                }

                if (steps[k].UsesImagingSlot)
                {
                    afterSlots = slots == 0 ? rest : afterSlots;
                    slots += seconds;
                }

                rest += seconds;
            }

            return new PartWork(hands, slots, afterHands, afterSlots);
        }
    }

    /// <summary>The latest, over the times drives arrive, of the work that cannot start before them being done after them (see the class remarks).</summary>
    private static double AfterDeliveries(CompiledPlan plan, int s, Dictionary<(int Site, int Part), List<PartWork>> waiting,
        Dictionary<(int Site, int Part), int> promised)
    {
        var site = plan.Plan.Sites[s];
        var latest = 0.0;
        foreach (var r in plan.Deliveries.Where(d => d.Site == s && d.Item >= 0 && d.At > 0).Select(d => d.At).Distinct())
        {
            var (hands, slots, afterHands, afterSlots) = (0.0, 0.0, double.PositiveInfinity, double.PositiveInfinity);
            foreach (var ((_, part), works) in waiting.Where(w => w.Key.Site == s))
            {
                var before = plan.Stock[(s * plan.Items.Length) + part] - promised.GetValueOrDefault((s, part))
                    + plan.Deliveries.Where(d => d.Site == s && d.Item == part && d.At < r).Sum(d => d.Quantity);
                var after = works.Count - Math.Max(0, before);
                if (after <= 0)
                {
                    continue;
                }

                // The machines with the least work are the ones a lower bound may assume are left for after r.
                hands += works.Select(w => w.HandsOn).Order().Take(after).Sum();
                slots += works.Select(w => w.Slots).Order().Take(after).Sum();
                afterHands = Math.Min(afterHands, works.Min(w => w.AfterHandsOn));
                afterSlots = Math.Min(afterSlots, works.Min(w => w.AfterSlots));
            }

            if (hands > 0)
            {
                latest = Math.Max(latest, Covering(hands, t => plan.Calendars[t], plan.SiteTechnicians[s], from: r) + afterHands);
            }

            // USB media bound a USB site's slots over time; the plain slot count is still an upper limit on them.
            if (slots > 0)
            {
                latest = Math.Max(latest, site.ImagingSlots > 0 ? r + (slots / site.ImagingSlots) + afterSlots : double.PositiveInfinity);
            }
        }

        return latest;
    }

    /// <summary>The first T at which technician-seconds on shift since <paramref name="from"/> reach <paramref name="work"/>; +∞ if not within a year.</summary>
    private static double Covering(double work, Func<int, ShiftCalendar> calendar, int[] technicians, double from = 0)
    {
        if (work <= 0)
        {
            return from;
        }

        var boundaries = new PriorityQueue<int, double>();
        var on = 0;
        foreach (var t in technicians)
        {
            on += calendar(t).Covers(from) ? 1 : 0;
            boundaries.Enqueue(t, calendar(t).NextBoundary(from));
        }

        var (at, done) = (from, 0.0);
        while (at < Horizon)
        {
            var next = boundaries.TryPeek(out _, out var b) ? Math.Min(b, Horizon) : Horizon;
            if (done + (on * (next - at)) >= work)
            {
                return at + ((work - done) / on);
            }

            (done, at) = (done + (on * (next - at)), next);
            while (boundaries.TryPeek(out var t, out var when) && when <= at)
            {
                boundaries.Dequeue();
                boundaries.Enqueue(t, calendar(t).NextBoundary(at));
            }

            // Re-read with the live rule rather than toggling: one technician's shifts may meet at an instant.
            on = technicians.Count(t => calendar(t).Covers(at));
        }

        return double.PositiveInfinity;
    }

    /// <summary>The first T at which slot-seconds since the start reach <paramref name="work"/>, over (from, slots) steps.</summary>
    private static double Covering(double work, IEnumerable<(double From, int Slots)> steps)
    {
        if (work <= 0)
        {
            return 0;
        }

        var (done, list) = (0.0, steps.ToList());
        for (var k = 0; k < list.Count; k++)
        {
            var until = k + 1 < list.Count ? list[k + 1].From : double.PositiveInfinity;
            if (list[k].Slots > 0 && done + (list[k].Slots * (until - list[k].From)) >= work)
            {
                return list[k].From + ((work - done) / list[k].Slots);
            }

            done += list[k].Slots * (until - list[k].From);
        }

        return double.PositiveInfinity;
    }

    private static List<(double From, int Slots)> SlotSteps(CompiledPlan plan, int s, int holding)
    {
        var site = plan.Plan.Sites[s];
        if (!site.ImagesFromUsb)
        {
            return [(0.0, Math.Max(site.ImagingSlots, holding))];
        }

        var media = site.UsbMedia;
        var steps = new List<(double From, int Slots)> { (0, Math.Max(holding, Math.Min(site.ImagingSlots, media + Arrived(plan, s, -1, 0)))) };
        foreach (var d in plan.Deliveries.Where(d => d.Site == s && d.Item < 0 && d.At > 0).OrderBy(d => d.At))
        {
            steps.Add((d.At, Math.Max(holding, Math.Min(site.ImagingSlots, media + Arrived(plan, s, -1, d.At)))));
        }

        return steps;
    }

    /// <summary>For each drive type the site lacks at the start: when enough have arrived for every machine needing one, plus the shortest path after admission.</summary>
    private static double PartsArrive(CompiledPlan plan, int s, Dictionary<(int, int), (int Count, double Path)> demand, Dictionary<(int, int), int> promised)
    {
        var latest = 0.0;
        foreach (var ((site, part), (count, path)) in demand.Where(d => d.Key.Item1 == s))
        {
            var need = count + promised.GetValueOrDefault((site, part)) - plan.Stock[(s * plan.Items.Length) + part];
            if (need <= 0)
            {
                continue;
            }

            var arrival = plan.Deliveries.Where(d => d.Site == s && d.Item == part && Arrived(plan, s, part, d.At) >= need)
                .Select(d => d.At).DefaultIfEmpty(double.PositiveInfinity).Min();
            latest = Math.Max(latest, arrival + path);
        }

        return latest;
    }

    private static int Arrived(CompiledPlan plan, int s, int item, double by) =>
        plan.Deliveries.Where(d => d.Site == s && d.Item == item && d.At <= by).Sum(d => d.Quantity);
}
