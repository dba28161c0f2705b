using Reimage.Orchestrator.Scheduling;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// The dispatcher's round on the simulated clock: the same snapshot, the same candidates, the same policy calls.
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
/// <item>Only sites where something changed since their last round are offered: a round with no round limit leaves
/// each offered site with nothing admissible, and only a freed slot, hands-on place or part, a delivery, a shift start
/// or an opened gate can change that, each of which marks the site.</item>
/// </list>
/// <see cref="SimulationOptions.Exhaustive"/> turns both off; a test checks the decisions are the same.
/// </summary>
internal sealed partial class SimulationRun
{
    private readonly List<SiteCapacity> _capacities = [];
    private readonly List<Candidate> _candidates = [];
    private readonly List<int> _candidateMachines = [];
    private readonly List<int> _offered = [];
    private int[] _cursor = [];

    private void RoundIfNeeded()
    {
        if (_admitDirty.IsEmpty && _assignDirty.IsEmpty && !_options.Exhaustive)
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
        foreach (var s in _admitDirty.Take(_options.Exhaustive))
        {
            var free = FreeSlots(s);
            if (free <= 0)
            {
                continue;
            }

            var before = _candidates.Count;
            var groups = _plan.Groups[s];
            var hands = FreeHandsOn(s);
            for (var g = 0; g < groups.Length; g++)
            {
                var (group, take) = (groups[g], free);
                take = group.NeedsTechnician ? Math.Min(take, hands) : take;
                take = group.Part >= 0 ? Math.Min(take, Available(s, group.Part)) : take;
                Collect(group, _heads[s][g], _options.Exhaustive ? int.MaxValue : take);
            }

            if (_candidates.Count > before)
            {
                _offered.Add(s);
                _capacities.Add(new SiteCapacity(_plan.SiteIds[s], free, hands, Parts(s)));
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

        var limit = _options.RoundLimit;
        var plan = _plan.Policy == DispatchPolicy.Live
            ? SchedulingPolicy.Admit(_capacities, _candidates, limit)
            : FifoBaseline.Admit(_capacities, _candidates, limit, c => _plan.Rank[Offered(c)]);
        foreach (var c in plan.Admitted)
        {
            Admit(Offered(c));
        }

        foreach (var c in plan.NowAwaitingParts)
        {
            _awaiting[Offered(c)] = true;
        }

        if (plan.Admitted.Count < limit)
        {
            return false;
        }

        foreach (var s in _offered)
        {
            _admitDirty.Mark(s);
        }

        return true;
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

        return _plan.MachineIndex[c.MachineId];
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
            while (h < queues[w].Length && _phase[queues[w][h]] != Phase.Waiting)
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
                if (!_open[w])
                {
                    continue;
                }

                var q = queues[w];
                while (_cursor[w] < q.Length && _phase[q[_cursor[w]]] != Phase.Waiting)
                {
                    _cursor[w]++;
                }

                if (_cursor[w] < q.Length && _plan.Rank[q[_cursor[w]]] < bestRank)
                {
                    (best, bestRank) = (w, _plan.Rank[q[_cursor[w]]]);
                }
            }

            if (best < 0)
            {
                return;
            }

            var i = queues[best][_cursor[best]++];
            _candidates.Add(_awaiting[i] ? _plan.AwaitingCandidates[i] : _plan.Candidates[i]);
            _candidateMachines.Add(i);
        }
    }

    /// <summary>As <see cref="CapacitySnapshot"/>: slots (bounded by USB media at a USB site) less machines in slot steps.</summary>
    private int FreeSlots(int s) => Math.Max(0, (_plan.Usb[s] ? Math.Min(_plan.Slots[s], _usb[s]) : _plan.Slots[s]) - _inSlots[s]);

    /// <summary>As <see cref="CapacitySnapshot"/>: technicians on shift × hands-on per technician less machines at hands-on steps.</summary>
    private int FreeHandsOn(int s) => Math.Max(0, (_onShift[s] * _plan.HandsOnPerTechnician[s]) - _handsOn[s]);

    private static readonly Dictionary<string, int> NoParts = [];

    private Dictionary<string, int> Parts(int s)
    {
        if (!_plan.NeedsParts[s])
        {
            return NoParts;
        }

        var parts = new Dictionary<string, int>();
        foreach (var group in _plan.Groups[s])
        {
            if (group.Part >= 0)
            {
                parts[_plan.Items[group.Part]] = Available(s, group.Part);
            }
        }

        return parts;
    }

    /// <summary>As <see cref="CapacitySnapshot"/>: on hand less reserved.</summary>
    private int Available(int s, int item) => Math.Max(0, _onHand[Stock(s, item)] - _promised[Stock(s, item)]);

    private void Admit(int i)
    {
        var site = _plan.MachineSite[i];
        var first = _plan.Steps[i][0];
        (_phase[i], _step[i], _attempt[i]) = (Phase.Active, 0, 1);
        _lastProgress = _now;
        _inSlots[site] += first.UsesImagingSlot ? 1 : 0;
        _handsOn[site] += first.Kind == StepKind.HandsOn ? 1 : 0;
        if (_plan.MachinePart[i] >= 0)
        {
            _reserved[i] = true;
            _promised[Stock(site, _plan.MachinePart[i])]++;
        }

        _trace?.Log.Add((TraceKind.Admitted, _plan.Original[i], _now));
        StartStep(i);
    }
}
