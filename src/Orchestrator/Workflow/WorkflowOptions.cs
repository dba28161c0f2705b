namespace Reimage.Orchestrator.Workflow;

/// <summary>Configuration section <c>Reimage:Workflow</c>.</summary>
public sealed class WorkflowOptions
{
    public const string Section = "Reimage:Workflow";

    /// <summary>Wait before the first retry of a failed step; doubles with each further attempt, capped at 20 times this.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A machine that runs out of retries this many times (counting this one) is quarantined rather than failed:
    /// repeated failures point at the hardware, not the step.
    /// </summary>
    public int QuarantineAfterFailures { get; set; } = 2;

    /// <summary>Results applied per database transaction by the pump.</summary>
    public int BatchSize { get; set; } = 2000;
}
