using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>The simulation's events: their kinds and order, and the image links' wake-ups.</summary>
internal sealed partial class SimulationRun
{
    private enum Phase : byte
    {
        Waiting,
        Active,
        Restored,
        Failed,
        Out,
    }

    /// <summary>Imaging over a shared link ends when both the step's own time and the transfer are over.</summary>
    private enum Transfer : byte
    {
        None,
        BothRunning,
        AwaitingTransfer,
    }

    private enum EventKind : byte
    {
        StepDone,
        TransferDone,
        TechnicianDone,
        Retry,
        ShiftBoundary,
        Delivery,
        Dispatch,
    }

    private readonly record struct SimEvent(EventKind Kind, int Target, int Token);

    /// <summary>Event order: time, then the order of scheduling, so that a run is a pure function of its plan and seed.</summary>
    private readonly record struct When(double At, long Sequence) : IComparable<When>
    {
        public int CompareTo(When other) => At != other.At ? At.CompareTo(other.At) : Sequence.CompareTo(other.Sequence);
    }

    private void Schedule(double at, EventKind kind, int target, int token)
    {
        if (kind != EventKind.ShiftBoundary)
        {
            _pendingWork++;
        }

        _events.Enqueue(new SimEvent(kind, target, token), new When(at, _sequence++));
    }

    private void Handle(SimEvent e)
    {
        if (e.Kind != EventKind.ShiftBoundary)
        {
            _pendingWork--;
        }

        switch (e.Kind)
        {
            case EventKind.StepDone when e.Token == _token[e.Target]:
                if (_transfer[e.Target] == Transfer.BothRunning)
                {
                    _transfer[e.Target] = Transfer.AwaitingTransfer;
                    break;
                }

                FinishAttempt(e.Target);
                break;
            case EventKind.TransferDone:
                OnTransfersDone(e.Target);
                break;
            case EventKind.TechnicianDone when e.Token == _techToken[e.Target]:
                OnTechnicianDone(e.Target);
                break;
            case EventKind.Retry when e.Token == _token[e.Target]:
                StartStep(e.Target);
                break;
            case EventKind.ShiftBoundary:
                OnShiftBoundary(e.Target);
                break;
            case EventKind.Delivery:
                Receive(_plan.Deliveries[e.Target]);
                break;
            case EventKind.Dispatch:
                _roundScheduled = false;
                RoundIfNeeded();
                break;
            default:
                break; // stale: the machine, link or technician has moved on since this was scheduled
        }
    }

    /// <summary>
    /// One wake-up per link at a time. A transfer joining only slows the others, so a wake-up already set is never late;
    /// if it comes early it finds nothing finished and sets the next. (Rescheduling at every join would leave a stale
    /// event in the queue per imaging machine.)
    /// </summary>
    private void ScheduleLink(int site)
    {
        var link = _links[site]!;
        var at = link.NextCompletion(_now);
        link.Woken = double.IsFinite(at);
        if (link.Woken)
        {
            Schedule(Math.Max(at, _now), EventKind.TransferDone, site, 0);
        }
    }

    private readonly List<int> _finished = [];

    private void OnTransfersDone(int site)
    {
        _finished.Clear();
        _links[site]!.TakeFinished(_now, _finished);
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
}
