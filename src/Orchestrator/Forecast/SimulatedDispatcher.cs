using Reimage.Orchestrator.Scheduling;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// The dispatcher's round on the simulated clock: the same snapshot, the same candidates, the same policy calls. A round
/// admits with <see cref="SchedulingPolicy.Admit"/> on the snapshot the live <see cref="CapacitySnapshot"/> would read
/// (free slots bounded by USB media; technicians on shift × hands-on per technician − machines at hands-on steps;
/// unreserved spares), then assigns hands-on steps with <see cref="SchedulingPolicy.Assign"/>.
/// Two savings keep a round's cost bounded by capacity rather than by the queue, and neither changes a decision:
/// <list type="number">
/// <item>The cut, the live dispatcher's query made tighter: of each (site, needs-technician, part) group only the
/// first k candidates in policy order are offered, k being the site's free slots, and no more than its free hands-on
/// places if the group needs a technician, nor its unreserved spares if it needs a part. Within such a group the policy
/// checks the same things for every candidate, and each of these only runs out during a round (one of each per
/// admission), so what it admits from the group is a prefix of the group's order at most k long; candidates further
/// down are neither admitted nor change anything for the others. (They may miss being marked awaiting parts, which
/// decides nothing.) The live cut stops at free slots alone; at a site short of technicians that offers hundreds of
/// candidates to admit one, which a live round can afford and 100,000 simulated rounds cannot.</item>
/// <item>Only sites where something changed since their last round are offered (<see cref="SiteChanges"/>): a round
/// with no round limit leaves each offered site with nothing admissible, and only a freed slot, hands-on place or part,
/// a delivery, a shift start or an opened gate can change that, each of which marks the site.</item>
/// </list>
/// <see cref="SimulationOptions.Exhaustive"/> turns both off; a test checks the decisions are the same.
/// </summary>
internal sealed class SimulatedDispatcher(
    CompiledPlan plan, SimulationOptions options, SiteChanges changes, SiteResources sites, MachineLifecycle machines,
    Technicians technicians, HandsOnPool pool, WaveGates gates)
{
    private readonly SimulationTrace? _trace = options.Trace;
    private readonly List<SiteCapacity> _capacities = [];
    private readonly List<Candidate> _candidates = [];
    private readonly List<int> _candidateMachines = [];
    private readonly List<int> _offered = [];
    private readonly List<HandsOnWork> _work = [];
    private readonly List<int> _workMachines = [];
    private readonly List<TechnicianLoad> _loads = [];
    private readonly List<int> _touched = [];

    /// <summary>Per (site, group), per wave: how far along the wave's queue every machine has been admitted.</summary>
    private readonly int[][][] _heads = [.. plan.Groups.Select(groups => groups.Select(_ => new int[plan.WaveCount]).ToArray())];

    private int[] _cursor = [];

    public void RoundIfNeeded()
    {
        if (changes.IsEmpty && !options.Exhaustive)
        {
            return;
        }

        while (Admission())
        {
            // The round limit bit: the live job loops while rounds admit; so does the simulation, at the same instant.
        }

        Assignment();
    }

    /// <summary>One admission round; true when it hit the round limit (more may be admissible now).</summary>
    private bool Admission()
    {
        _capacities.Clear();
        _candidates.Clear();
        _candidateMachines.Clear();
        _offered.Clear();
        foreach (var s in changes.Admission.Take(options.Exhaustive))
        {
            var free = sites.FreeSlots(s);
            if (free <= 0)
            {
                continue;
            }

            var before = _candidates.Count;
            var groups = plan.Groups[s];
            var hands = sites.FreeHandsOn(s);
            for (var g = 0; g < groups.Length; g++)
            {
                var (group, take) = (groups[g], free);
                take = group.NeedsTechnician ? Math.Min(take, hands) : take;
                take = group.Part >= 0 ? Math.Min(take, sites.Available(s, group.Part)) : take;
                Collect(group, _heads[s][g], options.Exhaustive ? int.MaxValue : take);
            }

            if (_candidates.Count > before)
            {
                _offered.Add(s);
                _capacities.Add(new SiteCapacity(plan.SiteIds[s], free, hands, sites.Parts(s)));
            }
        }

        if (_candidates.Count == 0)
        {
            return false;
        }

        if (_trace is not null)
        {
            _trace.Rounds++;
        }

        var limit = options.RoundLimit;
        var admission = plan.Policy == DispatchPolicy.Live
            ? SchedulingPolicy.Admit(_capacities, _candidates, limit)
            : FifoBaseline.Admit(_capacities, _candidates, limit, c => plan.Rank[Offered(c)]);
        foreach (var c in admission.Admitted)
        {
            machines.Admit(Offered(c));
        }

        foreach (var c in admission.NowAwaitingParts)
        {
            machines.AwaitParts(Offered(c));
        }

        if (admission.Admitted.Count < limit)
        {
            return false;
        }

        foreach (var s in _offered)
        {
            changes.Admission.Mark(s);
        }

        return true;
    }

    /// <summary>Up to <paramref name="take"/> waiting machines of one group, from the waves whose gates are open, merged in queue order.</summary>
    private void Collect(AdmissionGroup group, int[] heads, int take)
    {
        var queues = group.ByWave;
        if (_cursor.Length < queues.Length)
        {
            _cursor = new int[queues.Length];
        }

        for (var w = 0; w < queues.Length; w++)
        {
            // Machines leave a queue only by admission, from its front; skip those for good.
            var h = heads[w];
            while (h < queues[w].Length && !machines.IsWaiting(queues[w][h]))
            {
                h++;
            }

            _cursor[w] = heads[w] = h;
        }

        for (var taken = 0; taken < take; taken++)
        {
            var (best, bestRank) = (-1, int.MaxValue);
            for (var w = 0; w < queues.Length; w++)
            {
                if (!gates.IsOpen(w))
                {
                    continue;
                }

                var q = queues[w];
                while (_cursor[w] < q.Length && !machines.IsWaiting(q[_cursor[w]]))
                {
                    _cursor[w]++;
                }

                if (_cursor[w] < q.Length && plan.Rank[q[_cursor[w]]] < bestRank)
                {
                    (best, bestRank) = (w, plan.Rank[q[_cursor[w]]]);
                }
            }

            if (best < 0)
            {
                return;
            }

            var i = queues[best][_cursor[best]++];
            _candidates.Add(machines.IsAwaitingParts(i) ? plan.AwaitingCandidates[i] : plan.Candidates[i]);
            _candidateMachines.Add(i);
        }
    }

    /// <summary>
    /// The machine of a candidate the policy handed back: the policy returns the very records it was given, and a round
    /// offers a handful, so a look along the offer beats a hash lookup in a 100,000-entry index (a cache miss each).
    /// </summary>
    private int Offered(Candidate c)
    {
        if (_candidates.Count <= 32)
        {
            for (var k = 0; k < _candidates.Count; k++)
            {
                if (ReferenceEquals(_candidates[k], c))
                {
                    return _candidateMachines[k];
                }
            }
        }

        return plan.MachineIndex[c.MachineId];
    }

    /// <summary>
    /// Gives waiting hands-on steps to technicians on shift with room, through the policy's Assign. The policy takes work
    /// in walking order (FIFO: arrival order) and gives each piece to someone with room at its site while anyone has
    /// room, so only the first (room at the site) pieces can be placed; and a technician with a full queue is never
    /// chosen and keeps their load. Offering just those is the same decision, at the cost of the room, not the backlog.
    /// </summary>
    private void Assignment()
    {
        _work.Clear();
        _workMachines.Clear();
        _loads.Clear();
        foreach (var s in changes.Assignment.Take(options.Exhaustive))
        {
            if (pool.Count(s) == 0)
            {
                continue;
            }

            var room = technicians.Loads(s, options.Exhaustive, _loads);
            var from = _workMachines.Count;
            pool.Offer(s, room, options.Exhaustive, _workMachines);
            for (var k = from; k < _workMachines.Count; k++)
            {
                _work.Add(plan.Work[_workMachines[k]]);
            }
        }

        if (_work.Count == 0)
        {
            return;
        }

        var pairs = plan.Policy == DispatchPolicy.Live ? SchedulingPolicy.Assign(_work, _loads) : FifoBaseline.Assign(_work, _loads);
        _touched.Clear();
        foreach (var (machineId, technicianId) in pairs)
        {
            var t = plan.TechnicianIndex[technicianId];
            technicians.Take(OfferedWork(machineId), t);
            _touched.Add(t);
        }

        foreach (var t in _touched)
        {
            technicians.StartNext(t);
        }
    }

    private int OfferedWork(Guid machineId)
    {
        if (_work.Count <= 32)
        {
            for (var k = 0; k < _work.Count; k++)
            {
                if (_work[k].MachineId == machineId)
                {
                    return _workMachines[k];
                }
            }
        }

        return plan.MachineIndex[machineId];
    }
}
