using Reimage.Orchestrator.Scheduling;

namespace Reimage.Orchestrator.Forecast;

/// <summary>Hands-on work: each site's pool of steps nobody holds, and the round that assigns them.</summary>
internal sealed partial class SimulationRun
{
    private readonly List<HandsOnWork> _work = [];
    private readonly List<int> _workMachines = [];
    private readonly List<TechnicianLoad> _loads = [];

    /// <summary>
    /// Gives waiting hands-on steps to technicians on shift with room, through the policy's Assign. The policy takes work
    /// in walking order (FIFO: arrival order) and gives each piece to someone with room at its site while anyone has
    /// room, so only the first (room at the site) pieces can be placed; and a technician with a full queue is never
    /// chosen and keeps their load. Offering just those is the same decision, at the cost of the room, not the backlog.
    /// </summary>
    private void Assignment()
    {
        var (work, loads) = (_work, _loads);
        work.Clear();
        _workMachines.Clear();
        loads.Clear();
        foreach (var s in _assignDirty.Take(_options.Exhaustive))
        {
            if (_pool[s].Count == 0)
            {
                continue;
            }

            var room = 0;
            var capacity = _plan.HandsOnPerTechnician[s];
            foreach (var t in _plan.SiteTechnicians[s])
            {
                if (_techOn[t] && (_techQueue[t].Count < capacity || _options.Exhaustive))
                {
                    room += Math.Max(0, capacity - _techQueue[t].Count);
                    loads.Add(new TechnicianLoad(_plan.Technicians[t].Id, _plan.SiteIds[s], _plan.Technicians[t].Building,
                        _techQueue[t].Count, capacity, Floors(t)));
                }
            }

            foreach (var entry in _pool[s])
            {
                if (room-- <= 0 && !_options.Exhaustive)
                {
                    break;
                }

                var i = (int)(entry & PoolMachineMask);
                work.Add(_plan.Work[i]);
                _workMachines.Add(i);
            }
        }

        if (work.Count == 0)
        {
            return;
        }

        var pairs = _plan.Policy == DispatchPolicy.Live ? SchedulingPolicy.Assign(work, loads) : FifoBaseline.Assign(work, loads);
        _touched.Clear();
        foreach (var (machineId, technicianId) in pairs)
        {
            var (i, t) = (Offered(machineId), _plan.TechnicianIndex[technicianId]);
            FromPool(i);
            _holder[i] = t;
            _techQueue[t].Add(i);
            _touched.Add(t);
            _lastProgress = _now;
        }

        foreach (var t in _touched)
        {
            StartNext(t);
        }
    }

    private int Offered(Guid machineId)
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

        return _plan.MachineIndex[machineId];
    }

    private const int PoolMachineBits = 24;
    private const long PoolMachineMask = (1L << PoolMachineBits) - 1;
    private long _poolArrivals;

    /// <summary>Puts a hands-on step in its site's unassigned pool, kept in the order the policy takes work: walking order (FIFO: arrival).</summary>
    private void ToPool(int i)
    {
        var key = _plan.Policy == DispatchPolicy.Live ? _plan.WalkingRank[i] : _poolArrivals++;
        _poolEntry[i] = (key << PoolMachineBits) | (long)i;
        _pool[_plan.MachineSite[i]].Add(_poolEntry[i]);
        AssignDirty(_plan.MachineSite[i]);
    }

    private void FromPool(int i)
    {
        if (_poolEntry[i] >= 0)
        {
            _pool[_plan.MachineSite[i]].Remove(_poolEntry[i]);
            _poolEntry[i] = -1;
        }
    }

    private readonly List<int> _touched = [];

    private List<(string?, string?)> Floors(int t)
    {
        var floors = new List<(string?, string?)>(_techQueue[t].Count);
        foreach (var i in _techQueue[t])
        {
            var place = (_plan.Work[i].Building, _plan.Work[i].Floor);
            if (!floors.Contains(place))
            {
                floors.Add(place);
            }
        }

        return floors;
    }
}
