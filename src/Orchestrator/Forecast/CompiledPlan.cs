using Reimage.Orchestrator.Scheduling;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>Where a machine stands when the simulation starts.</summary>
internal enum StartingPoint : byte
{
    Waiting,
    InProgress,
    Restored,

    /// <summary>Failed, quarantined, skipped, decommissioned, not planned, or in a cancelled wave: not part of the forecast.</summary>
    Out,
}

/// <summary>One (site, needs-technician, part) group: the dispatcher's unit of interchangeable candidates, as per-wave queues in policy order.</summary>
internal sealed record AdmissionGroup(bool NeedsTechnician, int Part, int[][] ByWave);

/// <summary>
/// A plan turned into arrays once, and shared read-only by every run of a forecast: indices instead of ids, the
/// policy's queue order computed once (sorting 100,000 machines per run would cost more than the run), and the very
/// <see cref="Candidate"/> and <see cref="HandsOnWork"/> records the policy is given, built once per machine.
/// </summary>
internal sealed class CompiledPlan
{
    public CompiledPlan(ForecastPlan plan, DispatchPolicy policy)
    {
        Plan = plan;
        Policy = policy;
        var sites = plan.Sites;
        var siteIndex = sites.Select((s, i) => (s.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var waveIndex = plan.Waves.Select((w, i) => (w.Id, i)).ToDictionary(x => x.Id, x => x.i);
        Items = [.. plan.Machines.Where(m => m.Path == RecoveryPath.DriveReplacement).Select(PartOf)
            .Concat(sites.SelectMany(s => s.Spares.Keys)).Concat(sites.SelectMany(s => s.Deliveries.Select(d => d.Item)))
            .Where(i => i != SpareStock.UsbMedia).Distinct().Order(StringComparer.Ordinal)!];
        var itemIndex = Items.Select((item, i) => (item, i)).ToDictionary(x => x.item, x => x.i);

        Zones = [.. sites.Select(s => CapacitySnapshot.Zone(s.TimeZone))];
        SiteIds = [.. sites.Select(s => s.Id)];
        Slots = [.. sites.Select(s => s.ImagingSlots)];
        Usb = [.. sites.Select(s => s.ImagesFromUsb)];
        HandsOnPerTechnician = [.. sites.Select(s => s.HandsOnPerTechnician)];
        Stock = new int[sites.Count * Items.Length];
        for (var s = 0; s < sites.Count; s++)
        {
            foreach (var (item, count) in sites[s].Spares.Where(p => p.Key != SpareStock.UsbMedia))
            {
                Stock[(s * Items.Length) + itemIndex[item]] = count;
            }
        }

        Deliveries = [.. sites.SelectMany((site, s) => site.Deliveries.Select(d => new CompiledDelivery(
            Math.Max(0, (d.ArrivesAt - plan.Start).TotalSeconds), s, d.Item == SpareStock.UsbMedia ? -1 : itemIndex[d.Item], d.Quantity)))];

        var technicians = sites.SelectMany((site, s) => site.Technicians.Select(t => (Site: s, Technician: t))).ToList();
        TechnicianSite = [.. technicians.Select(t => t.Site)];
        Technicians = [.. technicians.Select(t => t.Technician)];
        TechnicianIndex = Technicians.Select((t, i) => (t.Id, i)).ToDictionary(x => x.Id, x => x.i);
        Calendars = [.. technicians.Select(t => new ShiftCalendar(t.Technician.Shifts, Zones[t.Site], plan.Start))];
        SiteTechnicians = [.. sites.Select((_, s) => technicians.Select((t, i) => (t.Site, i)).Where(x => x.Site == s).Select(x => x.i).ToArray())];

        WaveAdmissible = [.. plan.Waves.Select(w => w.Status is WaveStatus.Draft or WaveStatus.Approved or WaveStatus.Launched)];
        WaveGates = [.. plan.Waves.Select(w => w.Gates.Select(g => (waveIndex.TryGetValue(g.DependsOnWaveId, out var p) ? p
            : throw new ArgumentException($"Wave {w.Name} is gated on a wave that is not in the plan."), g.RestoredPercent)).ToArray())];
        Dependents = [.. plan.Waves.Select((_, w) => Enumerable.Range(0, plan.Waves.Count).Where(d => WaveGates[d].Any(g => g.Prerequisite == w)).ToArray())];

        var n = plan.Machines.Count;
        if (n >= 1 << 24)
        {
            throw new ArgumentException("A plan of 16 million machines or more is beyond the simulation.", nameof(plan));
        }

        // Machines are renumbered site by site in queue order: a site's admissions then walk its machines' state
        // one after another in memory instead of at random (a tenth off a run at 100,000 machines).
        var siteOf = plan.Machines.Select(m => siteIndex.TryGetValue(m.SiteId, out var site) ? site
            : throw new ArgumentException($"{m.Hostname}: its site is not in the plan.")).ToArray();
        var rankInPlan = RankInQueueOrder(plan, policy);
        Original = [.. Enumerable.Range(0, n).OrderBy(i => siteOf[i]).ThenBy(i => rankInPlan[i])];
        Rank = [.. Original.Select(i => rankInPlan[i])];

        (MachineSite, MachineWave, MachinePart) = (new int[n], new int[n], new int[n]);
        (Steps, StartStep, Start, Candidates, AwaitingCandidates, Work, ImageBytes) =
            (new StepDefinition[n][], new int[n], new StartingPoint[n], new Candidate[n], new Candidate[n], new HandsOnWork[n], new double[n]);
        // Shared per (path, boot) and per (site, path, boot): 100,000 machines have only a few dozen distinct step tables.
        var stepTables = new Dictionary<(RecoveryPath, bool), StepDefinition[]>();
        var durationTables = new Dictionary<(int, RecoveryPath, bool), StepDuration[]>();
        Durations = new StepDuration[n][];
        MachineIndex = new Dictionary<Guid, int>(n);
        for (var i = 0; i < n; i++)
        {
            var m = plan.Machines[Original[i]];
            var s = MachineSite[i] = siteOf[Original[i]];
            var w = MachineWave[i] = waveIndex.TryGetValue(m.WaveId, out var wave) ? wave : throw new ArgumentException($"{m.Hostname}: its wave is not in the plan.");
            MachineIndex.Add(m.Id, i);
            var remoteBoot = m.RemoteBoot && m.Step != Step.ManualBoot;
            if (!stepTables.TryGetValue((m.Path, remoteBoot), out var steps))
            {
                stepTables[(m.Path, remoteBoot)] = steps = [.. RecoveryPaths.Steps(m.Path, remoteBoot)];
            }

            if (!durationTables.TryGetValue((s, m.Path, remoteBoot), out var durations))
            {
                durationTables[(s, m.Path, remoteBoot)] = durations = [.. steps.Select(d => plan.Durations.For(m.SiteId, d.Step))];
            }

            (Steps[i], Durations[i]) = (steps, durations);
            MachinePart[i] = m.Path == RecoveryPath.DriveReplacement ? itemIndex[PartOf(m)] : -1;
            ImageBytes[i] = m.ImageBytes ?? sites[s].ImageBytes ?? 0;
            (Start[i], StartStep[i]) = StartOf(m, Steps[i], plan.Waves[w]);
            Candidates[i] = new Candidate(m.Id, m.SiteId, plan.Waves[w].Ordinal, m.Criticality, m.Building, m.Floor, m.Hostname,
                NeedsTechnician: Steps[i][0].Kind == StepKind.HandsOn, MachinePart[i] < 0 ? null : Items[MachinePart[i]], AwaitingParts: false);
            AwaitingCandidates[i] = Candidates[i] with { AwaitingParts = true };
            Work[i] = new HandsOnWork(m.Id, m.SiteId, m.Building, m.Floor, m.Room, m.Hostname);
        }

        if (plan.Machines.Select(m => m.Hostname).Distinct(StringComparer.OrdinalIgnoreCase).Count() != n)
        {
            throw new ArgumentException("Host names must be unique across the plan, as in the fleet.", nameof(plan));
        }

        WalkingRank = Positions(SchedulingPolicy.WalkingOrder(Work).Select(w => MachineIndex[w.MachineId]));
        Groups = GroupsBySite();
        NeedsParts = [.. Groups.Select(groups => groups.Any(g => g.Part >= 0))];
    }

    public ForecastPlan Plan { get; }

    public DispatchPolicy Policy { get; }

    public string[] Items { get; }

    public Guid[] SiteIds { get; }

    public int[] Slots { get; }

    public bool[] Usb { get; }

    public int[] HandsOnPerTechnician { get; }

    /// <summary>Whether any machine waiting at the site needs a spare.</summary>
    public bool[] NeedsParts { get; }

    public TimeZoneInfo[] Zones { get; }

    /// <summary>On hand at the start, by site × <see cref="Items"/>.</summary>
    public int[] Stock { get; }

    public CompiledDelivery[] Deliveries { get; }

    public int[] TechnicianSite { get; }

    public ForecastTechnician[] Technicians { get; }

    public Dictionary<Guid, int> TechnicianIndex { get; }

    public ShiftCalendar[] Calendars { get; }

    public int[][] SiteTechnicians { get; }

    public bool[] WaveAdmissible { get; }

    public (int Prerequisite, int Percent)[][] WaveGates { get; }

    /// <summary>For each wave, the waves gated on it.</summary>
    public int[][] Dependents { get; }

    public int[] MachineSite { get; }

    public int[] MachineWave { get; }

    public int[] MachinePart { get; }

    /// <summary>The steps each machine walks (its boot variant resolved).</summary>
    public StepDefinition[][] Steps { get; }

    public StepDuration[][] Durations { get; }

    public int[] StartStep { get; }

    public StartingPoint[] Start { get; }

    public double[] ImageBytes { get; }

    public Candidate[] Candidates { get; }

    public Candidate[] AwaitingCandidates { get; }

    public HandsOnWork[] Work { get; }

    public Dictionary<Guid, int> MachineIndex { get; }

    /// <summary>For each machine (numbered site by site in queue order), its index in the plan.</summary>
    public int[] Original { get; }

    /// <summary>Position in the policy's queue order (Live: <see cref="SchedulingPolicy.InPolicyOrder"/>; FIFO: import order).</summary>
    public int[] Rank { get; }

    /// <summary>Position in <see cref="SchedulingPolicy.WalkingOrder"/> over the whole fleet: a technician's queue in walking order is its machines by this.</summary>
    public int[] WalkingRank { get; }

    public AdmissionGroup[][] Groups { get; }

    public int SiteCount => Plan.Sites.Count;

    public int WaveCount => Plan.Waves.Count;

    public int MachineCount => Plan.Machines.Count;

    private static string PartOf(ForecastMachine m) => m.DiskType ?? Dispatcher.UnspecifiedDrive;

    private static (StartingPoint, int) StartOf(ForecastMachine m, StepDefinition[] steps, ForecastWave wave)
    {
        var cancelled = wave.Status is WaveStatus.Cancelled or WaveStatus.Completed;
        switch (m.State)
        {
            case RecoveryState.Restored:
                return (StartingPoint.Restored, steps.Length);
            case RecoveryState.InProgress:
                var at = Array.FindIndex(steps, d => d.Step == m.Step);
                return at >= 0 ? (StartingPoint.InProgress, at) : throw new ArgumentException($"{m.Hostname}: {m.Step} is not on its {m.Path} path.");
            case RecoveryState.Queued or RecoveryState.Planned or RecoveryState.AwaitingParts when !cancelled:
                return (StartingPoint.Waiting, -1);
            default:
                return (StartingPoint.Out, -1);
        }
    }

    /// <summary>Live: the policy's own ordering, applied once to the whole fleet (it is stable, so ties keep import order); FIFO: import order.</summary>
    private static int[] RankInQueueOrder(ForecastPlan plan, DispatchPolicy policy)
    {
        if (policy != DispatchPolicy.Live)
        {
            return [.. Enumerable.Range(0, plan.Machines.Count)];
        }

        var ordinals = plan.Waves.ToDictionary(w => w.Id, w => w.Ordinal);
        var index = plan.Machines.Select((m, i) => (m.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var candidates = plan.Machines.Select(m => new Candidate(m.Id, m.SiteId, ordinals.GetValueOrDefault(m.WaveId), m.Criticality,
            m.Building, m.Floor, m.Hostname, NeedsTechnician: false, Part: null, AwaitingParts: false));
        return Positions(SchedulingPolicy.InPolicyOrder(candidates).Select(c => index[c.MachineId]), plan.Machines.Count);
    }

    private int[] Positions(IEnumerable<int> order) => Positions(order, MachineCount);

    private static int[] Positions(IEnumerable<int> order, int count)
    {
        var rank = new int[count];
        var position = 0;
        foreach (var i in order)
        {
            rank[i] = position++;
        }

        return rank;
    }

    private AdmissionGroup[][] GroupsBySite()
    {
        var bySite = Enumerable.Range(0, MachineCount)
            .Where(i => Start[i] == StartingPoint.Waiting)
            .OrderBy(i => Rank[i])
            .GroupBy(i => (Site: MachineSite[i], Candidates[i].NeedsTechnician, Part: MachinePart[i]))
            .Select(g => (g.Key, Group: new AdmissionGroup(g.Key.NeedsTechnician, g.Key.Part,
                [.. Enumerable.Range(0, WaveCount).Select(w => g.Where(i => MachineWave[i] == w).ToArray())])))
            .ToLookup(g => g.Key.Site);
        return [.. Enumerable.Range(0, SiteCount).Select(s => bySite[s].OrderBy(g => (g.Key.NeedsTechnician, g.Key.Part)).Select(g => g.Group).ToArray())];
    }
}

/// <summary>A delivery, in seconds after the start; <see cref="Item"/> −1 is USB media.</summary>
internal readonly record struct CompiledDelivery(double At, int Site, int Item, int Quantity);
