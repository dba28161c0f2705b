namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// A site's image server link shared fairly by the machines pulling their image: with k transfers under way each gets
/// 1/k of the bandwidth. Kept in "service per transfer" (bytes each active transfer has received since the link first
/// carried anything): all active transfers advance by the same amount, so a transfer is done when the service
/// reaches its start level plus its size, and only the smallest such level matters. Each change of k costs O(log k).
/// </summary>
internal sealed class ImagingLink(double bytesPerSecond)
{
    private readonly PriorityQueue<int, double> _finishLevels = new();
    private double _service;
    private double _at;

    /// <summary>Whether a wake-up is scheduled for the link.</summary>
    public bool Woken { get; set; }

    public int Active => _finishLevels.Count;

    public void Add(int machine, double bytes, double now)
    {
        Advance(now);
        _finishLevels.Enqueue(machine, _service + Math.Max(0, bytes));
    }

    /// <summary>The transfers finished by <paramref name="now"/> (within rounding), removed from the link.</summary>
    public void TakeFinished(double now, List<int> finished)
    {
        Advance(now);
        while (_finishLevels.TryPeek(out var machine, out var level) && level <= _service + (1e-9 * Math.Max(1, level)))
        {
            _finishLevels.Dequeue();
            finished.Add(machine);
        }
    }

    /// <summary>When the next transfer finishes if nothing joins meanwhile, or +∞ when idle.</summary>
    public double NextCompletion(double now)
    {
        Advance(now);
        return _finishLevels.TryPeek(out _, out var level) ? now + ((level - _service) * _finishLevels.Count / bytesPerSecond) : double.PositiveInfinity;
    }

    private void Advance(double now)
    {
        if (_finishLevels.Count > 0 && now > _at)
        {
            _service += (now - _at) * bytesPerSecond / _finishLevels.Count;
        }

        _at = Math.Max(_at, now);
    }
}
