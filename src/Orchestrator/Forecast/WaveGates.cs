namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// Which waves may be admitted from. A gate is met when Restored × 100 ≥ percent × the prerequisite wave's machines, as
/// the live query has it, except that failed machines (and those left out of the plan) are not counted: the forecast
/// assumes a lead decides on a failure rather than letting it hold the next wave for ever. A prerequisite with nothing
/// left to count is met. Restored only grows and the count only shrinks, so a gate once met stays met.
/// </summary>
internal sealed class WaveGates(CompiledPlan plan, SiteChanges changes)
{
    private readonly int[] _restored = new int[plan.WaveCount];
    private readonly int[] _countable = new int[plan.WaveCount];
    private readonly bool[] _open = new bool[plan.WaveCount];

    public bool IsOpen(int wave) => _open[wave];

    /// <summary>At the start: a machine of the wave in the forecast, Restored already or not.</summary>
    public void Count(int wave, bool restored)
    {
        _countable[wave]++;
        _restored[wave] += restored ? 1 : 0;
    }

    /// <summary>At the start, once every machine is counted.</summary>
    public void Open()
    {
        for (var w = 0; w < _open.Length; w++)
        {
            _open[w] = GatesMet(w);
        }
    }

    public void Restored(int wave)
    {
        _restored[wave]++;
        OpenDependents(wave);
    }

    public void Failed(int wave)
    {
        _countable[wave]--;
        OpenDependents(wave);
    }

    private bool GatesMet(int wave)
    {
        if (!plan.WaveAdmissible[wave])
        {
            return false;
        }

        foreach (var (prerequisite, percent) in plan.WaveGates[wave])
        {
            if ((long)_restored[prerequisite] * 100 < (long)percent * _countable[prerequisite])
            {
                return false;
            }
        }

        return true;
    }

    private void OpenDependents(int wave)
    {
        foreach (var dependent in plan.Dependents[wave])
        {
            if (!_open[dependent] && GatesMet(dependent))
            {
                _open[dependent] = true;
                for (var s = 0; s < plan.SiteCount; s++)
                {
                    changes.MarkForAdmission(s);
                }
            }
        }
    }
}
