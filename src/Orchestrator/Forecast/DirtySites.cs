namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// The sites where something changed since the dispatcher last looked. With hundreds of sites and a round after
/// nearly every event, scanning them all each round would cost more than the rounds themselves.
/// </summary>
internal sealed class DirtySites(int count)
{
    private readonly bool[] _marked = new bool[count];
    private List<int> _marks = [];
    private List<int> _taken = [];

    public bool IsEmpty => _marks.Count == 0;

    public void Mark(int site)
    {
        if (!_marked[site])
        {
            _marked[site] = true;
            _marks.Add(site);
        }
    }

    /// <summary>The marked sites (every site when <paramref name="all"/>) in site order, unmarked; marks made meanwhile are for the next round.</summary>
    public List<int> Take(bool all)
    {
        (_marks, _taken) = (_taken, _marks);
        _marks.Clear();
        foreach (var site in _taken)
        {
            _marked[site] = false;
        }

        if (all)
        {
            _taken.Clear();
            _taken.AddRange(Enumerable.Range(0, count));
        }

        _taken.Sort();
        return _taken;
    }
}
