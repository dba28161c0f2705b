namespace Reimage.Orchestrator.Forecast;

internal enum EventKind : byte
{
    StepDone,
    TransferDone,
    TechnicianDone,
    Retry,
    ShiftBoundary,
    Delivery,
    Dispatch,
}

/// <summary>An event for a machine, a site's image link, a technician or a delivery (<see cref="Target"/>); <see cref="Token"/> tells a stale one.</summary>
internal readonly record struct SimEvent(EventKind Kind, int Target, int Token);

/// <summary>
/// The simulated clock, in seconds after the plan's start, and the events still to come. Events of one instant come in
/// the order they were scheduled, so that a run is a pure function of its plan and seed.
/// </summary>
internal sealed class EventQueue
{
    private readonly PriorityQueue<SimEvent, When> _events = new();
    private long _sequence;

    /// <summary>Events other than shift boundaries in the queue: with none, only rosters are left to turn.</summary>
    private int _pendingWork;

    public double Now { get; private set; }

    /// <summary>When anything last moved: an admission, an assignment, a technician setting off, a step done, a failure, a delivery.</summary>
    public double LastProgress { get; private set; }

    public bool OnlyRostersLeft => _pendingWork == 0;

    public void Schedule(double at, EventKind kind, int target, int token)
    {
        if (kind != EventKind.ShiftBoundary)
        {
            _pendingWork++;
        }

        _events.Enqueue(new SimEvent(kind, target, token), new When(at, _sequence++));
    }

    public void Progress() => LastProgress = Now;

    /// <summary>When the next event is due, if there is one.</summary>
    public bool TryPeek(out double at)
    {
        var any = _events.TryPeek(out _, out var when);
        at = when.At;
        return any;
    }

    public void AdvanceTo(double at) => Now = at;

    /// <summary>The next event due now, if there is one.</summary>
    public bool TryTake(out SimEvent next)
    {
        if (_events.TryPeek(out next, out var when) && when.At == Now)
        {
            _events.Dequeue();
            if (next.Kind != EventKind.ShiftBoundary)
            {
                _pendingWork--;
            }

            return true;
        }

        return false;
    }

    /// <summary>Event order: time, then the order of scheduling.</summary>
    private readonly record struct When(double At, long Sequence) : IComparable<When>
    {
        public int CompareTo(When other) => At != other.At ? At.CompareTo(other.At) : Sequence.CompareTo(other.Sequence);
    }
}
