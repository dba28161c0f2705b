namespace Reimage.Orchestrator.Workflow;

/// <summary>Top-level recovery states.</summary>
public enum RecoveryState
{
    NotPlanned,
    Planned,
    Queued,

    /// <summary>Its turn came but no spare drive of its type is left at the site; admitted as soon as one arrives.</summary>
    AwaitingParts,

    InProgress,
    Restored,
    Failed,
    Quarantined,
    Skipped,
    Decommissioned,
}

/// <summary>
/// The one table of legal top-level moves. Everything that changes a recovery's state asks it first;
/// an illegal move is a programming error and throws.
/// </summary>
public static class RecoveryTransitions
{
    private static readonly Dictionary<RecoveryState, RecoveryState[]> Allowed = new()
    {
        [RecoveryState.NotPlanned] = [RecoveryState.Planned, RecoveryState.Skipped, RecoveryState.Decommissioned],
        [RecoveryState.Planned] = [RecoveryState.NotPlanned, RecoveryState.Planned, RecoveryState.Queued, RecoveryState.Skipped, RecoveryState.Decommissioned],
        // Queued → Queued and Planned → Planned are moves to another wave.
        [RecoveryState.Queued] = [RecoveryState.NotPlanned, RecoveryState.Planned, RecoveryState.Queued, RecoveryState.AwaitingParts, RecoveryState.InProgress, RecoveryState.Skipped, RecoveryState.Decommissioned],
        [RecoveryState.AwaitingParts] = [RecoveryState.NotPlanned, RecoveryState.Planned, RecoveryState.Queued, RecoveryState.InProgress, RecoveryState.Skipped, RecoveryState.Decommissioned],
        // InProgress → InProgress is the move from one step to the next (or a retry of the same step).
        [RecoveryState.InProgress] = [RecoveryState.InProgress, RecoveryState.Restored, RecoveryState.Failed, RecoveryState.Quarantined],
        [RecoveryState.Failed] = [RecoveryState.Queued, RecoveryState.InProgress, RecoveryState.Quarantined, RecoveryState.Skipped, RecoveryState.Decommissioned],
        [RecoveryState.Quarantined] = [RecoveryState.Queued, RecoveryState.Decommissioned],
        [RecoveryState.Skipped] = [RecoveryState.NotPlanned, RecoveryState.Planned],
        [RecoveryState.Restored] = [RecoveryState.Decommissioned],
        [RecoveryState.Decommissioned] = [],
    };

    public static bool IsAllowed(RecoveryState from, RecoveryState to) => Allowed[from].Contains(to);

    /// <summary>Throws <see cref="InvalidOperationException"/> when <paramref name="from"/> → <paramref name="to"/> is not in the table.</summary>
    public static void EnsureAllowed(RecoveryState from, RecoveryState to)
    {
        if (!IsAllowed(from, to))
        {
            throw new InvalidOperationException($"Illegal recovery transition {from} → {to}.");
        }
    }

    public static bool IsFinal(RecoveryState state) =>
        state is RecoveryState.Restored or RecoveryState.Skipped or RecoveryState.Decommissioned;
}
