using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// Each machine's attempt in hand: at which of its steps, the how-manieth try, whether it is going to fail, and at a
/// hands-on step the hands-on time left (NaN until a technician first reaches the machine). Durations and failures are
/// drawn by address (see <see cref="Dice"/>): from the seed, the machine, the step and the attempt, whatever the order
/// of events.
/// </summary>
internal sealed class Attempts(CompiledPlan plan, int seed)
{
    private readonly int[] _step = new int[plan.MachineCount];
    private readonly int[] _attempt = new int[plan.MachineCount];
    private readonly bool[] _failPending = new bool[plan.MachineCount];
    private readonly double[] _handsOnLeft = new double[plan.MachineCount];

    public StepDefinition Step(int i) => plan.Steps[i][_step[i]];

    /// <summary>The step after the current one; null at the last.</summary>
    public StepDefinition? NextStep(int i) => _step[i] + 1 < plan.Steps[i].Length ? plan.Steps[i][_step[i] + 1] : null;

    public int StepIndex(int i) => _step[i];

    public int Number(int i) => _attempt[i];

    public bool WillFail(int i) => _failPending[i];

    /// <summary>The first attempt at step <paramref name="step"/> (or a later one, for a machine taken over in a step).</summary>
    public void Begin(int i, int step, int attempt) => (_step[i], _attempt[i]) = (step, attempt);

    public void Again(int i) => _attempt[i]++;

    /// <summary>Draws the attempt's duration and whether it fails.</summary>
    public double Roll(int i)
    {
        var duration = plan.Durations[i][_step[i]];
        var (z, u) = Dice.Roll(seed, plan.Original[i], (int)plan.Steps[i][_step[i]].Step, _attempt[i]);
        _failPending[i] = u < duration.FailureRate;
        return duration.Seconds(z);
    }

    /// <summary>A hands-on attempt not yet reached by anyone: its time is drawn when a technician gets there.</summary>
    public void AwaitHands(int i) => _handsOnLeft[i] = double.NaN;

    /// <summary>The hands-on time left on the attempt, drawn now if nobody has started it.</summary>
    public double HandsOnLeft(int i)
    {
        if (double.IsNaN(_handsOnLeft[i]))
        {
            _handsOnLeft[i] = Roll(i);
        }

        return _handsOnLeft[i];
    }

    /// <summary>A technician leaves the attempt at the end of a shift, having worked <paramref name="seconds"/> on it.</summary>
    public void Worked(int i, double seconds) => _handsOnLeft[i] = Math.Max(0, _handsOnLeft[i] - Math.Max(0, seconds));

    public void HandsOnDone(int i) => _handsOnLeft[i] = 0;
}
