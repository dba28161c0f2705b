using Hangfire;
using Hangfire.Common;
using Hangfire.States;

namespace Reimage.Bench.Forecast.Accuracy;

/// <summary>
/// The drill's clock: it stands still while the engine works and jumps to the next thing that happens in the world.
/// Timestamps are the simulated time too, so a job's run budget is measured on it (a round takes no simulated time).
/// </summary>
internal sealed class DrillClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Now.UtcTicks;
}

/// <summary>
/// Hangfire's place in the drill. Hangfire schedules in wall-clock time, which the drill does not have; so the drill
/// runs <see cref="Orchestrator.Workflow.WorkflowPumpJob"/> itself after every instant in which something happened (what a kick
/// asks for, with no pickup delay), and the kicks the engine sends go here and are dropped.
/// </summary>
internal sealed class DrillJobs : IBackgroundJobClient
{
    public string Create(Job job, IState state) => "drill";

    public bool ChangeState(string jobId, IState state, string expectedState) => false;
}
