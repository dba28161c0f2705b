namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// Each site's hands-on steps that no technician holds, kept in the order the policy takes work: walking order (FIFO:
/// arrival). An entry is the order key and the machine in one long, so the pool is a sorted set of numbers.
/// </summary>
internal sealed class HandsOnPool
{
    private const int MachineBits = 24;
    private const long MachineMask = (1L << MachineBits) - 1;

    private readonly CompiledPlan _plan;
    private readonly SiteChanges _changes;
    private readonly SortedSet<long>[] _pool;

    /// <summary>Per machine, its entry in its site's pool, −1 when not there.</summary>
    private readonly long[] _entry;

    private long _arrivals;

    public HandsOnPool(CompiledPlan plan, SiteChanges changes)
    {
        (_plan, _changes) = (plan, changes);
        _pool = [.. Enumerable.Range(0, plan.SiteCount).Select(_ => new SortedSet<long>())];
        _entry = new long[plan.MachineCount];
        Array.Fill(_entry, -1);
    }

    public int Count(int site) => _pool[site].Count;

    public void Add(int i)
    {
        var key = _plan.Policy == DispatchPolicy.Live ? _plan.WalkingRank[i] : _arrivals++;
        _entry[i] = (key << MachineBits) | (long)i;
        _pool[_plan.MachineSite[i]].Add(_entry[i]);
        _changes.MarkForAssignment(_plan.MachineSite[i]);
    }

    public void Remove(int i)
    {
        if (_entry[i] >= 0)
        {
            _pool[_plan.MachineSite[i]].Remove(_entry[i]);
            _entry[i] = -1;
        }
    }

    /// <summary>The site's first <paramref name="room"/> machines in the pool's order (all of them when <paramref name="all"/>), onto <paramref name="offer"/>.</summary>
    public void Offer(int site, int room, bool all, List<int> offer)
    {
        foreach (var entry in _pool[site])
        {
            if (room-- <= 0 && !all)
            {
                break;
            }

            offer.Add((int)(entry & MachineMask));
        }
    }
}
