using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// Each machine's way through its steps, and what it holds on the way. A slot is held from admission until imaging
/// ends; a spare is reserved at admission, consumed when InstallDrive ends, released if the machine fails first. A
/// failed attempt is retried after the live backoff up to the step's MaxAttempts, then the machine is Failed: left out
/// of completion, and of its wave's gate count. Imaging over a shared link ends when both the step's own time and the
/// transfer are over.
/// </summary>
internal sealed class MachineLifecycle
{
    private readonly CompiledPlan _plan;
    private readonly SimulationOptions _options;
    private readonly EventQueue _events;
    private readonly SiteResources _sites;
    private readonly SiteChanges _changes;
    private readonly Attempts _attempts;
    private readonly HandsOnPool _pool;
    private readonly Technicians _technicians;
    private readonly WaveGates _gates;
    private readonly SimulationTrace? _trace;

    private readonly Phase[] _phase;

    /// <summary>Per machine, the number of its latest StepDone or Retry event: an event with another is stale.</summary>
    private readonly int[] _token;

    private readonly Transfer[] _transfer;
    private readonly bool[] _awaitingParts;
    private readonly bool[] _reserved;
    private readonly double[] _completion;
    private readonly List<int> _finished = [];

    public MachineLifecycle(CompiledPlan plan, SimulationOptions options, EventQueue events, SiteResources sites, SiteChanges changes,
        Attempts attempts, HandsOnPool pool, Technicians technicians, WaveGates gates)
    {
        (_plan, _options, _events, _sites, _changes, _trace) = (plan, options, events, sites, changes, options.Trace);
        (_attempts, _pool, _technicians, _gates) = (attempts, pool, technicians, gates);
        var n = plan.MachineCount;
        (_phase, _token, _transfer) = (new Phase[n], new int[n], new Transfer[n]);
        (_awaitingParts, _reserved, _completion) = (new bool[n], new bool[n], new double[n]);
    }

    private enum Phase : byte
    {
        Waiting,
        Active,
        Restored,
        Failed,
        Out,
    }

    private enum Transfer : byte
    {
        None,
        BothRunning,
        AwaitingTransfer,
    }

    /// <summary>Machines neither Restored, Failed nor out of the plan.</summary>
    public int Left { get; private set; }

    public bool IsWaiting(int i) => _phase[i] == Phase.Waiting;

    public bool IsAwaitingParts(int i) => _awaitingParts[i];

    /// <summary>The policy found no spare for it: the live dispatcher marks it AwaitingParts, and so the candidate says from now on.</summary>
    public void AwaitParts(int i) => _awaitingParts[i] = true;

    /// <summary>Where each machine stands at the start, counted into its wave's gates.</summary>
    public void Place()
    {
        for (var i = 0; i < _phase.Length; i++)
        {
            var w = _plan.MachineWave[i];
            _completion[i] = double.NaN;
            switch (_plan.Start[i])
            {
                case StartingPoint.Out:
                    _phase[i] = Phase.Out;
                    continue;
                case StartingPoint.Restored:
                    (_phase[i], _completion[i]) = (Phase.Restored, 0);
                    _gates.Count(w, restored: true);
                    continue;
                case StartingPoint.Waiting:
                    _phase[i] = Phase.Waiting;
                    _awaitingParts[i] = _plan.Plan.Machines[_plan.Original[i]].State == RecoveryState.AwaitingParts;
                    break;
                default:
                    TakeOver(i);
                    break;
            }

            Left++;
            _gates.Count(w, restored: false);
        }
    }

    /// <summary>The machines taken over in a step start it, once everything else is in place.</summary>
    public void StartTakenOver()
    {
        for (var i = 0; i < _phase.Length; i++)
        {
            if (_phase[i] == Phase.Active)
            {
                StartStep(i);
            }
        }
    }

    public void Admit(int i)
    {
        var site = _plan.MachineSite[i];
        _phase[i] = Phase.Active;
        _attempts.Begin(i, step: 0, attempt: 1);
        _events.Progress();
        _sites.Enter(site, _attempts.Step(i));
        if (_plan.MachinePart[i] >= 0)
        {
            _reserved[i] = true;
            _sites.Reserve(site, _plan.MachinePart[i]);
        }

        _trace?.Log.Add((TraceKind.Admitted, _plan.Original[i], _events.Now));
        StartStep(i);
    }

    public void OnStepDone(int i, int token)
    {
        if (token != _token[i])
        {
            return; // stale: the machine has moved on since
        }

        if (_transfer[i] == Transfer.BothRunning)
        {
            _transfer[i] = Transfer.AwaitingTransfer;
            return;
        }

        FinishAttempt(i);
    }

    public void OnRetry(int i, int token)
    {
        if (token == _token[i])
        {
            StartStep(i);
        }
    }

    public void OnTransfersDone(int site)
    {
        _finished.Clear();
        _sites.Link(site)!.TakeFinished(_events.Now, _finished);
        foreach (var i in _finished)
        {
            if (_transfer[i] == Transfer.AwaitingTransfer)
            {
                _transfer[i] = Transfer.None;
                FinishAttempt(i);
            }
            else
            {
                _transfer[i] = Transfer.None; // the transfer beat the step's own minimum time; the step end finishes it
            }
        }

        ScheduleLink(site);
    }

    public void FinishAttempt(int i)
    {
        if (!_attempts.WillFail(i))
        {
            Advance(i);
            return;
        }

        var step = _attempts.Step(i);
        if (_attempts.Number(i) >= step.MaxAttempts)
        {
            Fail(i);
            return;
        }

        // As WorkflowPump.Retry: base × 2^(attempt − 1), capped at 20 × base. A hands-on step is simply done again by its technician.
        var backoff = _options.RetryBackoff.TotalSeconds * Math.Min(20, Math.Pow(2, _attempts.Number(i) - 1));
        _attempts.Again(i);
        if (step.Kind == StepKind.HandsOn)
        {
            _attempts.AwaitHands(i);
        }
        else
        {
            _events.Schedule(_events.Now + backoff, EventKind.Retry, i, ++_token[i]);
        }
    }

    /// <summary>What each machine came to, in the order of the plan; a machine still waiting or in a step never finished.</summary>
    public RunOutcome Outcome()
    {
        var (restored, failed, unfinished) = (0, 0, 0);
        for (var i = 0; i < _phase.Length; i++)
        {
            switch (_phase[i])
            {
                case Phase.Restored: restored++; break;
                case Phase.Failed: failed++; break;
                case Phase.Waiting or Phase.Active: unfinished++; _completion[i] = double.PositiveInfinity; break;
                default: break;
            }
        }

        var completion = new double[_completion.Length];
        for (var i = 0; i < completion.Length; i++)
        {
            completion[_plan.Original[i]] = _completion[i];
        }

        return new RunOutcome(completion, restored, failed, unfinished);
    }

    /// <summary>A machine already in a step at the start: it holds what the live system says it holds, and its step starts afresh (its elapsed time is not known).</summary>
    private void TakeOver(int i)
    {
        var (site, steps) = (_plan.MachineSite[i], _plan.Steps[i]);
        _phase[i] = Phase.Active;
        _attempts.Begin(i, _plan.StartStep[i], Math.Max(1, _plan.Plan.Machines[_plan.Original[i]].Attempt));
        _sites.Enter(site, _attempts.Step(i));
        var install = Array.FindIndex(steps, s => s.Step == Step.InstallDrive);
        if (_plan.MachinePart[i] >= 0 && _attempts.StepIndex(i) <= install)
        {
            _reserved[i] = true;
            _sites.Reserve(site, _plan.MachinePart[i]);
        }
    }

    private void StartStep(int i)
    {
        var step = _attempts.Step(i);
        if (step.Kind == StepKind.HandsOn)
        {
            _attempts.AwaitHands(i);
            if (!_technicians.Holds(i))
            {
                _pool.Add(i);
            }

            return;
        }

        var seconds = _attempts.Roll(i);
        _events.Schedule(_events.Now + seconds, EventKind.StepDone, i, ++_token[i]);
        var site = _plan.MachineSite[i];
        if (step.Step == Step.Imaging && _sites.Link(site) is { } link)
        {
            _transfer[i] = Transfer.BothRunning;
            link.Add(i, _plan.ImageBytes[i], _events.Now);
            if (!link.Woken)
            {
                ScheduleLink(site);
            }
        }
    }

    private void Advance(int i)
    {
        var site = _plan.MachineSite[i];
        var (step, next) = (_attempts.Step(i), _attempts.NextStep(i));
        _events.Progress();
        if (step.Step == Step.InstallDrive && _reserved[i])
        {
            _reserved[i] = false;
            _sites.Consume(site, _plan.MachinePart[i]);
            _trace?.Log.Add((TraceKind.PartConsumed, _plan.Original[i], _events.Now));
        }

        if (step.UsesImagingSlot && next?.UsesImagingSlot != true)
        {
            _sites.ReleaseSlot(site);
            _trace?.Log.Add((TraceKind.SlotReleased, _plan.Original[i], _events.Now));
        }

        if (step.Kind == StepKind.HandsOn && next?.Kind != StepKind.HandsOn)
        {
            _sites.ReleaseHandsOn(site);
            _technicians.Leave(i);
            _trace?.Log.Add((TraceKind.HandsOnLeft, _plan.Original[i], _events.Now));
        }

        if (next is null)
        {
            _phase[i] = Phase.Restored;
            _completion[i] = _events.Now;
            Left--;
            _trace?.Log.Add((TraceKind.Restored, _plan.Original[i], _events.Now));
            _gates.Restored(_plan.MachineWave[i]);
            return;
        }

        _attempts.Begin(i, _attempts.StepIndex(i) + 1, attempt: 1);
        StartStep(i);
    }

    /// <summary>Out of attempts: the machine gives back its slot, its hands-on place and its spare, and waits for a lead's decision outside the forecast.</summary>
    private void Fail(int i)
    {
        var site = _plan.MachineSite[i];
        var step = _attempts.Step(i);
        if (step.UsesImagingSlot)
        {
            _sites.ReleaseSlot(site);
            _trace?.Log.Add((TraceKind.SlotReleased, _plan.Original[i], _events.Now));
        }

        if (step.Kind == StepKind.HandsOn)
        {
            _sites.ReleaseHandsOn(site);
            _trace?.Log.Add((TraceKind.HandsOnLeft, _plan.Original[i], _events.Now));
            _technicians.Leave(i);
            _pool.Remove(i);
        }

        if (_reserved[i])
        {
            _reserved[i] = false;
            _sites.Release(site, _plan.MachinePart[i]);
            _trace?.Log.Add((TraceKind.PartReleased, _plan.Original[i], _events.Now));
        }

        _changes.MarkForAdmission(site); // also when it held nothing there (a failed Verify)
        _phase[i] = Phase.Failed;
        Left--;
        _events.Progress();
        _trace?.Log.Add((TraceKind.Failed, _plan.Original[i], _events.Now));
        _gates.Failed(_plan.MachineWave[i]);
    }

    /// <summary>
    /// One wake-up per link at a time. A transfer joining only slows the others, so a wake-up already set is never late;
    /// if it comes early it finds nothing finished and sets the next. (Rescheduling at every join would leave a stale
    /// event in the queue per imaging machine.)
    /// </summary>
    private void ScheduleLink(int site)
    {
        var link = _sites.Link(site)!;
        var now = _events.Now;
        var at = link.NextCompletion(now);
        link.Woken = double.IsFinite(at);
        if (link.Woken)
        {
            _events.Schedule(Math.Max(at, now), EventKind.TransferDone, site, 0);
        }
    }
}
