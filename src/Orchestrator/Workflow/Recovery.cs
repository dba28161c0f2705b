namespace Reimage.Orchestrator.Workflow;

/// <summary>
/// A machine's recovery record: where it is in its path. Written only through compare-and-set on
/// <see cref="Version"/> (see <see cref="TransitionWriter"/>).
/// </summary>
public sealed class Recovery
{
    public Guid MachineId { get; set; }

    public RecoveryState State { get; set; } = RecoveryState.NotPlanned;

    public RecoveryPath Path { get; set; } = RecoveryPath.Reformat;

    public Step? Step { get; set; }

    /// <summary>1 for the first try of <see cref="Step"/>, counting up with each retry.</summary>
    public int Attempt { get; set; }

    public Guid? WaveId { get; set; }

    public DateTimeOffset? StepStartedAt { get; set; }

    public DateTimeOffset StateChangedAt { get; set; }

    public string? FailureReason { get; set; }

    /// <summary>How many times the machine has run out of retries (ended Failed or Quarantined).</summary>
    public int Failures { get; set; }

    /// <summary>Incremented by every transition and every event appended; the compare-and-set token.</summary>
    public long Version { get; set; }

    /// <summary>The hash of the machine's latest event: the head of its audit chain.</summary>
    public byte[]? ChainHead { get; set; }

    /// <summary>The columns <see cref="Read"/> expects, in order, for a query over <c>reimage.recoveries</c> aliased <c>r</c>.</summary>
    internal const string Columns = "r.machine_id, r.state, r.path, r.step, r.attempt, r.wave_id, r.version, r.failures";

    internal static Recovery Read(Npgsql.NpgsqlDataReader reader) => new()
    {
        MachineId = reader.GetGuid(0),
        State = Enum.Parse<RecoveryState>(reader.GetString(1)),
        Path = Enum.Parse<RecoveryPath>(reader.GetString(2)),
        Step = reader.IsDBNull(3) ? null : Enum.Parse<Step>(reader.GetString(3)),
        Attempt = reader.GetInt32(4),
        WaveId = reader.IsDBNull(5) ? null : reader.GetGuid(5),
        Version = reader.GetInt64(6),
        Failures = reader.GetInt32(7),
    };
}
