using Reimage.Orchestrator.Scheduling;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// Technicians. The policy gives each one a queue of up to HandsOnPerTechnician machines, but a person is at one
/// machine at a time: they work their queue in walking order (<see cref="SchedulingPolicy.WalkingOrder"/>, what their
/// tablet shows), a step's time runs from when they reach the machine, and reaching it costs the plan's walking time
/// from where they last were. So the queue is a to-do list, not parallel hands; capacity × technicians bounds how much
/// hands-on work is admitted, and the technicians bound how fast it is done.
/// </summary>
internal sealed partial class SimulationRun
{
    private bool[] _techOn = [];
    private List<int>[] _techQueue = [];
    private int[] _techCurrent = [];
    private int[] _techToken = [];
    private int[] _techLast = [];
    private double[] _techWorkStart = [];
    private double[] _techSegmentStart = [];
    private (string? Building, string? Floor)[] _techPlace = [];

    private void InitialiseTechnicians()
    {
        var n = _plan.Technicians.Length;
        (_techOn, _techCurrent, _techToken, _techLast) = (new bool[n], new int[n], new int[n], new int[n]);
        (_techWorkStart, _techSegmentStart, _techPlace) = (new double[n], new double[n], new (string?, string?)[n]);
        _techQueue = [.. Enumerable.Range(0, n).Select(_ => new List<int>())];
        Array.Fill(_techCurrent, -1);
        Array.Fill(_techLast, -1);
        for (var t = 0; t < n; t++)
        {
            _techPlace[t] = (_plan.Technicians[t].Building, null);
            if (_plan.Calendars[t].Covers(0))
            {
                _techOn[t] = true;
                _onShift[_plan.TechnicianSite[t]]++;
            }

            ScheduleBoundary(t);
        }
    }

    private void ScheduleBoundary(int t)
    {
        var next = _plan.Calendars[t].NextBoundary(_now);
        if (double.IsFinite(next))
        {
            Schedule(next, EventKind.ShiftBoundary, t, 0);
        }
    }

    /// <summary>
    /// A technician free and on shift goes to the next machine of their queue: the one they were just at if it still
    /// needs hands (a drive just removed is fitted while the case is open), else the first in walking order (FIFO
    /// baseline: the first assigned).
    /// </summary>
    private void StartNext(int t)
    {
        var queue = _techQueue[t];
        if (!_techOn[t] || _techCurrent[t] >= 0 || queue.Count == 0)
        {
            return;
        }

        var i = queue.Contains(_techLast[t]) ? _techLast[t] : _plan.Policy == DispatchPolicy.FifoBaseline ? queue[0] : FirstInWalkingOrder(queue);
        if (double.IsNaN(_remaining[i]))
        {
            _remaining[i] = Roll(i);
        }

        var work = _plan.Work[i];
        var walk = _techPlace[t] == (work.Building, work.Floor) ? TimeSpan.Zero
            : string.Equals(_techPlace[t].Building, work.Building, StringComparison.Ordinal) ? _plan.Plan.Walking.FloorChange
            : _plan.Plan.Walking.BuildingChange;
        _techPlace[t] = (work.Building, work.Floor);
        (_techCurrent[t], _techLast[t], _techSegmentStart[t], _techWorkStart[t]) = (i, i, _now, _now + walk.TotalSeconds);
        Schedule(_techWorkStart[t] + _remaining[i], EventKind.TechnicianDone, t, ++_techToken[t]);
        _lastProgress = _now;
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

    private void OnTechnicianDone(int t)
    {
        var i = _techCurrent[t];
        _trace?.HandsOn.Add((_plan.Original[i], t, _plan.Steps[i][_step[i]].Step, _techSegmentStart[t], _now));
        _techCurrent[t] = -1;
        _remaining[i] = 0;
        FinishAttempt(i);
        StartNext(t);
    }

    /// <summary>
    /// Shift changes are read with the live rule. At the end of a shift the machine in hand is handed over with the work
    /// left on it, and the rest of the queue goes back to be assigned, as the live dispatcher reassigns work held by
    /// someone off shift; the handover itself is taken as free. So nobody works off shift, which keeps the
    /// technician bound of <see cref="PhysicalBound"/> a true bound.
    /// </summary>
    private void OnShiftBoundary(int t)
    {
        var on = _plan.Calendars[t].Covers(_now);
        var site = _plan.TechnicianSite[t];
        if (on != _techOn[t])
        {
            _techOn[t] = on;
            _onShift[site] += on ? 1 : -1;
            AdmitDirty(site);
            AssignDirty(site);
            if (on)
            {
                _techPlace[t] = (_plan.Technicians[t].Building, null);
                _techLast[t] = -1;
            }
            else
            {
                HandOver(t, site);
            }
        }

        ScheduleBoundary(t);
    }

    private void HandOver(int t, int site)
    {
        var current = _techCurrent[t];
        if (current >= 0)
        {
            _remaining[current] = Math.Max(0, _remaining[current] - Math.Max(0, _now - _techWorkStart[t]));
            _trace?.HandsOn.Add((_plan.Original[current], t, _plan.Steps[current][_step[current]].Step, _techSegmentStart[t], _now));
            _techCurrent[t] = -1;
            _techToken[t]++;
        }

        foreach (var i in _techQueue[t])
        {
            _holder[i] = -1;
            ToPool(i);
        }

        _techQueue[t].Clear();
    }

    /// <summary>The machine no longer needs hands: it leaves its technician's queue, making room there.</summary>
    private void LeaveTechnician(int i)
    {
        var t = _holder[i];
        if (t < 0)
        {
            return;
        }

        _techQueue[t].Remove(i);
        _holder[i] = -1;
        AssignDirty(_plan.TechnicianSite[t]);
    }
}
