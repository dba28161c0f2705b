namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// What the dispatcher has to look at again: the sites where something changed that could let a machine in (a freed
/// slot, hands-on place or part, a delivery, a shift change, an opened gate) or let hands-on work be given out (work in
/// the pool, room in a queue, a shift change), and the dispatcher round that calls for. With no dispatch interval the
/// run holds a round after every instant; with one, the round waits for the next tick of the interval's grid.
/// </summary>
internal sealed class SiteChanges(int sites, EventQueue events, double interval)
{
    private bool _roundScheduled;

    public DirtySites Admission { get; } = new(sites);

    public DirtySites Assignment { get; } = new(sites);

    public bool IsEmpty => Admission.IsEmpty && Assignment.IsEmpty;

    public void MarkForAdmission(int site)
    {
        Admission.Mark(site);
        RequestRound();
    }

    public void MarkForAssignment(int site)
    {
        Assignment.Mark(site);
        RequestRound();
    }

    /// <summary>The round requested on the grid is being held.</summary>
    public void RoundDue() => _roundScheduled = false;

    private void RequestRound()
    {
        if (interval > 0 && !_roundScheduled)
        {
            _roundScheduled = true;
            events.Schedule(Math.Ceiling(events.Now / interval) * interval, EventKind.Dispatch, 0, 0);
        }
    }
}
