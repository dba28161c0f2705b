using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>A machine's moves between steps, and what they free: slots, hands-on capacity, parts, gates.</summary>
internal sealed partial class SimulationRun
{
    private int Stock(int site, int item) => (site * _plan.Items.Length) + item;

    private void StartStep(int i)
    {
        var step = _plan.Steps[i][_step[i]];
        if (step.Kind == StepKind.HandsOn)
        {
            _remaining[i] = double.NaN;
            if (_holder[i] < 0)
            {
                ToPool(i);
            }

            return;
        }

        var seconds = Roll(i);
        Schedule(_now + seconds, EventKind.StepDone, i, ++_token[i]);
        var site = _plan.MachineSite[i];
        if (step.Step == Step.Imaging && _links[site] is { } link)
        {
            _transfer[i] = Transfer.BothRunning;
            link.Add(i, _plan.ImageBytes[i], _now);
            if (!link.Woken)
            {
                ScheduleLink(site);
            }
        }
    }

    /// <summary>Draws the attempt's duration and whether it fails, by address (see <see cref="Dice"/>).</summary>
    private double Roll(int i)
    {
        var duration = _plan.Durations[i][_step[i]];
        var (z, u) = Dice.Roll(_seed, _plan.Original[i], (int)_plan.Steps[i][_step[i]].Step, _attempt[i]);
        _failPending[i] = u < duration.FailureRate;
        return duration.Seconds(z);
    }

    private void FinishAttempt(int i)
    {
        if (!_failPending[i])
        {
            Advance(i);
            return;
        }

        var step = _plan.Steps[i][_step[i]];
        if (_attempt[i] >= step.MaxAttempts)
        {
            Fail(i);
            return;
        }

        // As WorkflowPump.Retry: base × 2^(attempt − 1), capped at 20 × base. A hands-on step is simply done again by its technician.
        var backoff = _options.RetryBackoff.TotalSeconds * Math.Min(20, Math.Pow(2, _attempt[i] - 1));
        _attempt[i]++;
        if (step.Kind == StepKind.HandsOn)
        {
            _remaining[i] = double.NaN;
        }
        else
        {
            Schedule(_now + backoff, EventKind.Retry, i, ++_token[i]);
        }
    }

    private void Advance(int i)
    {
        var (site, steps) = (_plan.MachineSite[i], _plan.Steps[i]);
        var step = steps[_step[i]];
        var next = _step[i] + 1 < steps.Length ? steps[_step[i] + 1] : null;
        _lastProgress = _now;
        if (step.Step == Step.InstallDrive && _reserved[i])
        {
            _reserved[i] = false;
            _onHand[Stock(site, _plan.MachinePart[i])]--;
            _promised[Stock(site, _plan.MachinePart[i])]--;
            _trace?.Log.Add((TraceKind.PartConsumed, _plan.Original[i], _now));
        }

        if (step.UsesImagingSlot && next?.UsesImagingSlot != true)
        {
            _inSlots[site]--;
            AdmitDirty(site);
            _trace?.Log.Add((TraceKind.SlotReleased, _plan.Original[i], _now));
        }

        if (step.Kind == StepKind.HandsOn && next?.Kind != StepKind.HandsOn)
        {
            _handsOn[site]--;
            AdmitDirty(site);
            LeaveTechnician(i);
            _trace?.Log.Add((TraceKind.HandsOnLeft, _plan.Original[i], _now));
        }

        if (next is null)
        {
            _phase[i] = Phase.Restored;
            _completion[i] = _now;
            _left--;
            _restored[_plan.MachineWave[i]]++;
            _trace?.Log.Add((TraceKind.Restored, _plan.Original[i], _now));
            OpenGates(_plan.MachineWave[i]);
            return;
        }

        _step[i]++;
        _attempt[i] = 1;
        StartStep(i);
    }

    /// <summary>Out of attempts: the machine gives back its slot, its hands-on place and its spare, and waits for a lead's decision outside the forecast.</summary>
    private void Fail(int i)
    {
        var site = _plan.MachineSite[i];
        var step = _plan.Steps[i][_step[i]];
        if (step.UsesImagingSlot)
        {
            _inSlots[site]--;
            _trace?.Log.Add((TraceKind.SlotReleased, _plan.Original[i], _now));
        }

        if (step.Kind == StepKind.HandsOn)
        {
            _handsOn[site]--;
            _trace?.Log.Add((TraceKind.HandsOnLeft, _plan.Original[i], _now));
            LeaveTechnician(i);
            FromPool(i);
        }

        if (_reserved[i])
        {
            _reserved[i] = false;
            _promised[Stock(site, _plan.MachinePart[i])]--;
            _trace?.Log.Add((TraceKind.PartReleased, _plan.Original[i], _now));
        }

        AdmitDirty(site);
        _phase[i] = Phase.Failed;
        _left--;
        _lastProgress = _now;
        _countable[_plan.MachineWave[i]]--;
        _trace?.Log.Add((TraceKind.Failed, _plan.Original[i], _now));
        OpenGates(_plan.MachineWave[i]);
    }

    private void Receive(CompiledDelivery delivery)
    {
        if (delivery.Item < 0)
        {
            _usb[delivery.Site] += delivery.Quantity;
        }
        else
        {
            _onHand[Stock(delivery.Site, delivery.Item)] += delivery.Quantity;
        }

        _lastProgress = _now;
        AdmitDirty(delivery.Site);
    }

    /// <summary>
    /// A gate is met when Restored × 100 ≥ percent × the prerequisite wave's machines, as the live query has it, except
    /// that failed machines (and those left out of the plan) are not counted: the forecast assumes a lead decides on a
    /// failure rather than letting it hold the next wave for ever. A prerequisite with nothing left to count is met.
    /// </summary>
    private bool GatesMet(int wave)
    {
        if (!_plan.WaveAdmissible[wave])
        {
            return false;
        }

        foreach (var (prerequisite, percent) in _plan.WaveGates[wave])
        {
            if ((long)_restored[prerequisite] * 100 < (long)percent * _countable[prerequisite])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Restored only grows and the count only shrinks, so a gate once met stays met.</summary>
    private void OpenGates(int wave)
    {
        foreach (var dependent in _plan.Dependents[wave])
        {
            if (!_open[dependent] && GatesMet(dependent))
            {
                _open[dependent] = true;
                for (var s = 0; s < _plan.SiteCount; s++)
                {
                    AdmitDirty(s);
                }
            }
        }
    }

    private void AdmitDirty(int site)
    {
        _admitDirty.Mark(site);
        RequestRound();
    }

    private void AssignDirty(int site)
    {
        _assignDirty.Mark(site);
        RequestRound();
    }

    private void RequestRound()
    {
        if (_interval > 0 && !_roundScheduled)
        {
            _roundScheduled = true;
            Schedule(Math.Ceiling(_now / _interval) * _interval, EventKind.Dispatch, 0, 0);
        }
    }
}
