using Reimage.Orchestrator.HandsOn;

namespace Reimage.Orchestrator.Workflow;

/// <summary>
/// The answer given to a request carrying an idempotency key. A repeated submission (a tablet on poor Wi-Fi
/// sending a check-off twice) gets this answer again and changes nothing.
/// </summary>
public sealed class IdempotentRequest
{
    public required string Key { get; set; }

    public Guid MachineId { get; set; }

    public required string Step { get; set; }

    /// <summary>The <see cref="HandsOnOutcome"/> of the first submission.</summary>
    public required string Outcome { get; set; }

    /// <summary>The first submission's <see cref="HandsOnResult"/>, as JSON.</summary>
    public required string Response { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
