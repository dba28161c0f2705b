namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// One run of the discrete-event simulation, on a clock of seconds after the plan's start. Its state is in parts, each
/// with its own file:
/// <list type="bullet">
/// <item><see cref="EventQueue"/>: the clock and the events to come (step ends, image transfers ending, technicians
/// finishing a machine, retries after backoff, shift starts and ends, deliveries, dispatcher rounds on a grid).</item>
/// <item><see cref="SiteResources"/>: slots, hands-on places, spares, USB media and image links per site.</item>
/// <item><see cref="MachineLifecycle"/> and <see cref="Attempts"/>: each machine's way through its steps, and the
/// attempt in hand with its dice.</item>
/// <item><see cref="Technicians"/> and <see cref="HandsOnPool"/>: who is on shift, who holds and works which hands-on
/// step, and the steps nobody holds.</item>
/// <item><see cref="WaveGates"/>: which waves may be admitted from.</item>
/// <item><see cref="SimulatedDispatcher"/>: the round that admits and assigns through the shared
/// <see cref="Scheduling.SchedulingPolicy"/>, run after the events of an instant if anything changed that could let a
/// machine in (<see cref="SiteChanges"/>, <see cref="SimulationOptions.DispatchInterval"/>).</item>
/// </list>
/// This class starts them and hands each event to the part it is for. Hot paths stay on arrays indexed by machine,
/// site and technician, with no allocation per event.
/// </summary>
internal sealed class SimulationRun
{
    /// <summary>A week of rosters and a day to spare: if that passes with nothing but shift changes, nothing else will happen.</summary>
    private const double Stuck = 8 * 86_400.0;

    private readonly CompiledPlan _plan;
    private readonly SimulationOptions _options;
    private readonly EventQueue _events = new();
    private readonly SiteChanges _changes;
    private readonly SiteResources _sites;
    private readonly Technicians _technicians;
    private readonly WaveGates _gates;
    private readonly MachineLifecycle _machines;
    private readonly SimulatedDispatcher _dispatcher;

    public SimulationRun(CompiledPlan plan, int seed, SimulationOptions options)
    {
        (_plan, _options) = (plan, options);
        _changes = new SiteChanges(plan.SiteCount, _events, options.DispatchInterval.TotalSeconds);
        _sites = new SiteResources(plan, _changes);
        var attempts = new Attempts(plan, seed);
        var pool = new HandsOnPool(plan, _changes);
        _technicians = new Technicians(plan, _events, _sites, _changes, attempts, pool, options.Trace);
        _gates = new WaveGates(plan, _changes);
        _machines = new MachineLifecycle(plan, options, _events, _sites, _changes, attempts, pool, _technicians, _gates);
        _dispatcher = new SimulatedDispatcher(plan, options, _changes, _sites, _machines, _technicians, pool, _gates);
    }

    public RunOutcome Run(CancellationToken ct)
    {
        Start();
        var (horizon, roundEveryInstant) = (_options.Horizon.TotalSeconds, _options.DispatchInterval <= TimeSpan.Zero);
        var turns = 0;
        _dispatcher.RoundIfNeeded();
        while (_machines.Left > 0 && _events.TryPeek(out var next))
        {
            // Only rosters left to turn, and a week of them changed nothing: the rest is stuck (no parts, no people, a closed gate).
            if (next > horizon || (_events.OnlyRostersLeft && next > _events.LastProgress + Stuck))
            {
                break;
            }

            _events.AdvanceTo(next);
            while (_events.TryTake(out var e))
            {
                Handle(e);
            }

            if (roundEveryInstant)
            {
                _dispatcher.RoundIfNeeded();
            }

            if ((++turns & 0xFFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }
        }

        return _machines.Outcome();
    }

    /// <summary>The order matters: it is the order of the first events, and events of one instant keep it.</summary>
    private void Start()
    {
        _technicians.Start();
        _machines.Place();
        foreach (var d in _plan.Deliveries.Where(d => d.At <= 0))
        {
            _sites.Receive(d);
        }

        for (var d = 0; d < _plan.Deliveries.Length; d++)
        {
            if (_plan.Deliveries[d].At > 0)
            {
                _events.Schedule(_plan.Deliveries[d].At, EventKind.Delivery, d, 0);
            }
        }

        _gates.Open();
        for (var s = 0; s < _plan.SiteCount; s++)
        {
            _changes.MarkForAdmission(s);
            _changes.MarkForAssignment(s);
        }

        _machines.StartTakenOver();
    }

    private void Handle(SimEvent e)
    {
        switch (e.Kind)
        {
            case EventKind.StepDone:
                _machines.OnStepDone(e.Target, e.Token);
                break;
            case EventKind.TransferDone:
                _machines.OnTransfersDone(e.Target);
                break;
            case EventKind.TechnicianDone when _technicians.IsCurrent(e.Target, e.Token):
                _machines.FinishAttempt(_technicians.Finish(e.Target));
                _technicians.StartNext(e.Target);
                break;
            case EventKind.Retry:
                _machines.OnRetry(e.Target, e.Token);
                break;
            case EventKind.ShiftBoundary:
                _technicians.OnShiftBoundary(e.Target);
                break;
            case EventKind.Delivery:
                _sites.Receive(_plan.Deliveries[e.Target]);
                _events.Progress();
                break;
            case EventKind.Dispatch:
                _changes.RoundDue();
                _dispatcher.RoundIfNeeded();
                break;
            default:
                break; // stale: the technician has moved on since this was scheduled
        }
    }
}
