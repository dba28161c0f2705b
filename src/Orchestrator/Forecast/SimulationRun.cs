using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// One run of the discrete-event simulation, on a clock of seconds after the plan's start. The model:
/// <list type="bullet">
/// <item>Events are step ends, image transfers ending, technicians finishing a machine, retries after backoff, shift
/// starts and ends, and deliveries. After the events of one instant, a dispatcher round runs if anything changed that
/// could let a machine in (see <see cref="SimulationOptions.DispatchInterval"/>).</item>
/// <item>A round admits with <see cref="Scheduling.SchedulingPolicy.Admit"/> on the snapshot the live
/// <see cref="Scheduling.CapacitySnapshot"/> would read (free slots bounded by USB media; technicians on shift ×
/// hands-on per technician − machines at hands-on steps; unreserved spares), then assigns hands-on steps with
/// <see cref="Scheduling.SchedulingPolicy.Assign"/>.</item>
/// <item>A slot is held from admission until imaging ends; a spare is reserved at admission, consumed when InstallDrive
/// ends, released if the machine fails first. A failed attempt is retried after the live backoff up to the step's
/// MaxAttempts, then the machine is Failed: left out of completion, and of its wave's gate count.</item>
/// <item>Technicians: see <see cref="StartNext"/> and <see cref="OnShiftBoundary"/>.</item>
/// </list>
/// </summary>
internal sealed partial class SimulationRun
{
    /// <summary>A week of rosters and a day to spare: if that passes with nothing but shift changes, nothing else will happen.</summary>
    private const double Stuck = 8 * 86_400.0;

    private readonly CompiledPlan _plan;
    private readonly int _seed;
    private readonly SimulationOptions _options;
    private readonly SimulationTrace? _trace;
    private readonly PriorityQueue<SimEvent, When> _events = new();
    private readonly double _interval;
    private long _sequence;
    private double _now;
    private double _lastProgress;
    private int _pendingWork;
    private int _left;
    private bool _roundScheduled;

    // Machines.
    private readonly Phase[] _phase;
    private readonly int[] _step;
    private readonly int[] _attempt;
    private readonly int[] _holder;
    private readonly int[] _token;
    private readonly double[] _remaining;
    private readonly bool[] _failPending;
    private readonly Transfer[] _transfer;
    private readonly bool[] _awaiting;
    private readonly bool[] _reserved;
    private readonly long[] _poolEntry;
    private readonly double[] _completion;

    // Sites.
    private readonly int[] _inSlots;
    private readonly int[] _handsOn;
    private readonly int[] _onShift;
    private readonly int[] _usb;
    private readonly int[] _onHand;
    private readonly int[] _promised;
    private readonly DirtySites _admitDirty;
    private readonly DirtySites _assignDirty;
    private readonly SortedSet<long>[] _pool;
    private readonly ImagingLink?[] _links;
    private readonly int[][][] _heads;

    // Waves.
    private readonly int[] _restored;
    private readonly int[] _countable;
    private readonly bool[] _open;

    public SimulationRun(CompiledPlan plan, int seed, SimulationOptions options)
    {
        (_plan, _seed, _options, _trace, _interval) = (plan, seed, options, options.Trace, options.DispatchInterval.TotalSeconds);
        var (n, sites, waves, items) = (plan.MachineCount, plan.SiteCount, plan.WaveCount, plan.Items.Length);
        (_phase, _step, _attempt, _holder, _token, _remaining) = (new Phase[n], new int[n], new int[n], new int[n], new int[n], new double[n]);
        (_failPending, _transfer, _awaiting, _reserved, _poolEntry, _completion) = (new bool[n], new Transfer[n], new bool[n], new bool[n], new long[n], new double[n]);
        (_inSlots, _handsOn, _onShift, _admitDirty, _assignDirty) = (new int[sites], new int[sites], new int[sites], new DirtySites(sites), new DirtySites(sites));
        _usb = [.. plan.Plan.Sites.Select(s => s.UsbMedia)];
        _onHand = [.. plan.Stock];
        _promised = new int[sites * items];
        _pool = [.. Enumerable.Range(0, sites).Select(_ => new SortedSet<long>())];
        Array.Fill(_poolEntry, -1);
        _links = [.. plan.Plan.Sites.Select(s => !s.ImagesFromUsb && s.ImagingBytesPerSecond > 0 ? new ImagingLink(s.ImagingBytesPerSecond.Value) : null)];
        _heads = [.. plan.Groups.Select(groups => groups.Select(_ => new int[waves]).ToArray())];
        (_restored, _countable, _open) = (new int[waves], new int[waves], new bool[waves]);
        InitialiseTechnicians();
    }

    public RunOutcome Run(CancellationToken ct)
    {
        Initialise();
        var horizon = _options.Horizon.TotalSeconds;
        var turns = 0;
        RoundIfNeeded();
        while (_left > 0 && _events.TryPeek(out _, out var next))
        {
            // Only rosters left to turn, and a week of them changed nothing: the rest is stuck (no parts, no people, a closed gate).
            if (next.At > horizon || (_pendingWork == 0 && next.At > _lastProgress + Stuck))
            {
                break;
            }

            _now = next.At;
            while (_events.TryPeek(out var e, out var when) && when.At == _now)
            {
                _events.Dequeue();
                Handle(e);
            }

            if (_interval <= 0)
            {
                RoundIfNeeded();
            }

            if ((++turns & 0xFFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }
        }

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

    private void Initialise()
    {
        for (var i = 0; i < _phase.Length; i++)
        {
            var w = _plan.MachineWave[i];
            _holder[i] = -1;
            _completion[i] = double.NaN;
            switch (_plan.Start[i])
            {
                case StartingPoint.Out:
                    _phase[i] = Phase.Out;
                    continue;
                case StartingPoint.Restored:
                    (_phase[i], _completion[i]) = (Phase.Restored, 0);
                    _restored[w]++;
                    _countable[w]++;
                    continue;
                case StartingPoint.Waiting:
                    _phase[i] = Phase.Waiting;
                    _awaiting[i] = _plan.Plan.Machines[_plan.Original[i]].State == RecoveryState.AwaitingParts;
                    break;
                default:
                    TakeOver(i);
                    break;
            }

            _left++;
            _countable[w]++;
        }

        foreach (var d in _plan.Deliveries.Where(d => d.At <= 0))
        {
            Receive(d);
        }

        for (var d = 0; d < _plan.Deliveries.Length; d++)
        {
            if (_plan.Deliveries[d].At > 0)
            {
                Schedule(_plan.Deliveries[d].At, EventKind.Delivery, d, 0);
            }
        }

        for (var w = 0; w < _open.Length; w++)
        {
            _open[w] = GatesMet(w);
        }

        for (var s = 0; s < _plan.SiteCount; s++)
        {
            AdmitDirty(s);
            AssignDirty(s);
        }
        for (var i = 0; i < _phase.Length; i++)
        {
            if (_phase[i] == Phase.Active)
            {
                StartStep(i);
            }
        }
    }

    /// <summary>A machine already in a step at the start: it holds what the live system says it holds, and its step starts afresh (its elapsed time is not known).</summary>
    private void TakeOver(int i)
    {
        var (site, steps) = (_plan.MachineSite[i], _plan.Steps[i]);
        (_phase[i], _step[i], _attempt[i]) = (Phase.Active, _plan.StartStep[i], Math.Max(1, _plan.Plan.Machines[_plan.Original[i]].Attempt));
        var step = steps[_step[i]];
        _inSlots[site] += step.UsesImagingSlot ? 1 : 0;
        _handsOn[site] += step.Kind == StepKind.HandsOn ? 1 : 0;
        var install = Array.FindIndex(steps, s => s.Step == Step.InstallDrive);
        if (_plan.MachinePart[i] >= 0 && _step[i] <= install)
        {
            _reserved[i] = true;
            _promised[Stock(site, _plan.MachinePart[i])]++;
        }
    }
}
