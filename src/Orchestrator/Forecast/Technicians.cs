using Reimage.Orchestrator.Scheduling;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// The technicians: who is on shift, whose queue holds which machines, who is at which machine and where they last were.
/// The policy gives each one a queue of up to HandsOnPerTechnician machines, but a person is at one machine at a time:
/// they work their queue in walking order (<see cref="SchedulingPolicy.WalkingOrder"/>, what their tablet shows), a
/// step's time runs from when they reach the machine, and reaching it costs the plan's walking time from where they last
/// were. So the queue is a to-do list, not parallel hands; capacity × technicians bounds how much hands-on work is
/// admitted, and the technicians bound how fast it is done.
/// </summary>
internal sealed class Technicians
{
    private readonly CompiledPlan _plan;
    private readonly EventQueue _events;
    private readonly SiteResources _sites;
    private readonly SiteChanges _changes;
    private readonly Attempts _attempts;
    private readonly HandsOnPool _pool;
    private readonly SimulationTrace? _trace;

    private readonly bool[] _on;
    private readonly List<int>[] _queue;
    private readonly int[] _current;
    private readonly int[] _token;
    private readonly int[] _last;
    private readonly double[] _workStart;
    private readonly double[] _segmentStart;
    private readonly (string? Building, string? Floor)[] _place;

    /// <summary>Per machine, the technician whose queue holds it, −1 for none.</summary>
    private readonly int[] _holder;

    public Technicians(CompiledPlan plan, EventQueue events, SiteResources sites, SiteChanges changes, Attempts attempts, HandsOnPool pool, SimulationTrace? trace)
    {
        (_plan, _events, _sites, _changes, _attempts, _pool, _trace) = (plan, events, sites, changes, attempts, pool, trace);
        var n = plan.Technicians.Length;
        (_on, _current, _token, _last) = (new bool[n], new int[n], new int[n], new int[n]);
        (_workStart, _segmentStart, _place) = (new double[n], new double[n], new (string?, string?)[n]);
        _queue = [.. Enumerable.Range(0, n).Select(_ => new List<int>())];
        Array.Fill(_current, -1);
        Array.Fill(_last, -1);
        _holder = new int[plan.MachineCount];
        Array.Fill(_holder, -1);
    }

    /// <summary>At the start: each technician at their home building, on shift if the roster says so, and their next shift change due.</summary>
    public void Start()
    {
        for (var t = 0; t < _on.Length; t++)
        {
            _place[t] = (_plan.Technicians[t].Building, null);
            if (_plan.Calendars[t].Covers(0))
            {
                _on[t] = true;
                _sites.ShiftChanged(_plan.TechnicianSite[t], on: true);
            }

            ScheduleBoundary(t);
        }
    }

    public bool Holds(int i) => _holder[i] >= 0;

    /// <summary>Whether a TechnicianDone event is still news: the technician has not been sent elsewhere since.</summary>
    public bool IsCurrent(int t, int token) => token == _token[t];

    /// <summary>
    /// The site's technicians on shift with room in their queues (every one on shift when <paramref name="all"/>), as
    /// the policy sees them, onto <paramref name="loads"/>; returns the room they have between them.
    /// </summary>
    public int Loads(int site, bool all, List<TechnicianLoad> loads)
    {
        var room = 0;
        var capacity = _plan.HandsOnPerTechnician[site];
        foreach (var t in _plan.SiteTechnicians[site])
        {
            if (_on[t] && (_queue[t].Count < capacity || all))
            {
                room += Math.Max(0, capacity - _queue[t].Count);
                loads.Add(new TechnicianLoad(_plan.Technicians[t].Id, _plan.SiteIds[site], _plan.Technicians[t].Building,
                    _queue[t].Count, capacity, Floors(t)));
            }
        }

        return room;
    }

    /// <summary>The policy gave machine <paramref name="i"/> to technician <paramref name="t"/>: it leaves the pool for their queue.</summary>
    public void Take(int i, int t)
    {
        _pool.Remove(i);
        _holder[i] = t;
        _queue[t].Add(i);
        _events.Progress();
    }

    /// <summary>
    /// A technician free and on shift goes to the next machine of their queue: the one they were just at if it still
    /// needs hands (a drive just removed is fitted while the case is open), else the first in walking order (FIFO
    /// baseline: the first assigned).
    /// </summary>
    public void StartNext(int t)
    {
        var queue = _queue[t];
        if (!_on[t] || _current[t] >= 0 || queue.Count == 0)
        {
            return;
        }

        var i = queue.Contains(_last[t]) ? _last[t] : _plan.Policy == DispatchPolicy.FifoBaseline ? queue[0] : FirstInWalkingOrder(queue);
        var left = _attempts.HandsOnLeft(i);
        var work = _plan.Work[i];
        var walk = _place[t] == (work.Building, work.Floor) ? TimeSpan.Zero
            : string.Equals(_place[t].Building, work.Building, StringComparison.Ordinal) ? _plan.Plan.Walking.FloorChange
            : _plan.Plan.Walking.BuildingChange;
        var now = _events.Now;
        _place[t] = (work.Building, work.Floor);
        (_current[t], _last[t], _segmentStart[t], _workStart[t]) = (i, i, now, now + walk.TotalSeconds);
        _events.Schedule(_workStart[t] + left, EventKind.TechnicianDone, t, ++_token[t]);
        _events.Progress();
    }

    /// <summary>The technician is done with the machine in hand; returns it, for its attempt to finish.</summary>
    public int Finish(int t)
    {
        var i = _current[t];
        _trace?.HandsOn.Add((_plan.Original[i], t, _attempts.Step(i).Step, _segmentStart[t], _events.Now));
        _current[t] = -1;
        _attempts.HandsOnDone(i);
        return i;
    }

    /// <summary>
    /// Shift changes are read with the live rule. At the end of a shift the machine in hand is handed over with the work
    /// left on it, and the rest of the queue goes back to be assigned, as the live dispatcher reassigns work held by
    /// someone off shift; the handover itself is taken as free. So nobody works off shift, which keeps the
    /// technician bound of <see cref="PhysicalBound"/> a true bound.
    /// </summary>
    public void OnShiftBoundary(int t)
    {
        var on = _plan.Calendars[t].Covers(_events.Now);
        var site = _plan.TechnicianSite[t];
        if (on != _on[t])
        {
            _on[t] = on;
            _sites.ShiftChanged(site, on);
            _changes.MarkForAdmission(site);
            _changes.MarkForAssignment(site);
            if (on)
            {
                _place[t] = (_plan.Technicians[t].Building, null);
                _last[t] = -1;
            }
            else
            {
                HandOver(t);
            }
        }

        ScheduleBoundary(t);
    }

    /// <summary>The machine no longer needs hands: it leaves its technician's queue, making room there.</summary>
    public void Leave(int i)
    {
        var t = _holder[i];
        if (t < 0)
        {
            return;
        }

        _queue[t].Remove(i);
        _holder[i] = -1;
        _changes.MarkForAssignment(_plan.TechnicianSite[t]);
    }

    private void HandOver(int t)
    {
        var current = _current[t];
        if (current >= 0)
        {
            _attempts.Worked(current, _events.Now - _workStart[t]);
            _trace?.HandsOn.Add((_plan.Original[current], t, _attempts.Step(current).Step, _segmentStart[t], _events.Now));
            _current[t] = -1;
            _token[t]++;
        }

        foreach (var i in _queue[t])
        {
            _holder[i] = -1;
            _pool.Add(i);
        }

        _queue[t].Clear();
    }

    private void ScheduleBoundary(int t)
    {
        var next = _plan.Calendars[t].NextBoundary(_events.Now);
        if (double.IsFinite(next))
        {
            _events.Schedule(next, EventKind.ShiftBoundary, t, 0);
        }
    }

    /// <summary>The head of <see cref="SchedulingPolicy.WalkingOrder"/> over the queue, by the fleet-wide walking rank (the same order, computed once).</summary>
    private int FirstInWalkingOrder(List<int> queue)
    {
        var first = queue[0];
        foreach (var i in queue)
        {
            first = _plan.WalkingRank[i] < _plan.WalkingRank[first] ? i : first;
        }

        return first;
    }

    private List<(string?, string?)> Floors(int t)
    {
        var floors = new List<(string?, string?)>(_queue[t].Count);
        foreach (var i in _queue[t])
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
