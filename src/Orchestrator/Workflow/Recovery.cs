using Reimage.Orchestrator.Infrastructure;

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

    /// <summary>The technician a hands-on step is assigned to; null when unassigned or automated.</summary>
    public Guid? TechnicianId { get; set; }

    /// <summary>The spare part (drive type) reserved for this machine at admission and not yet fitted.</summary>
    public string? ReservedPart { get; set; }

    /// <summary>Incremented by every transition and every event appended; the compare-and-set token.</summary>
    public long Version { get; set; }

    /// <summary>The hash of the machine's latest event: the head of its audit chain.</summary>
    public byte[]? ChainHead { get; set; }

    /// <summary>Whether the machine's boot step can run from afar (see <see cref="RecoveryPaths.CanBootRemotely"/>); read from the machine, not stored.</summary>
    public bool RemoteBoot { get; set; } = true;

    /// <summary>
    /// The columns <see cref="Read"/> reads (by name), for a query over
    /// <c>reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id</c>.
    /// </summary>
    internal const string Columns = "r.machine_id, r.state, r.path, r.step, r.attempt, r.wave_id, r.version, r.failures, r.technician_id, r.reserved_part, "
        + RecoveryPaths.CanBootRemotelySql + " AS remote_boot";

    internal static Recovery Read(Npgsql.NpgsqlDataReader reader)
    {
        var step = reader.GetNullableString("step");
        var wave = reader.GetOrdinal("wave_id");
        var technician = reader.GetOrdinal("technician_id");
        return new()
        {
            MachineId = reader.GetGuid(reader.GetOrdinal("machine_id")),
            State = Enum.Parse<RecoveryState>(reader.GetString(reader.GetOrdinal("state"))),
            Path = Enum.Parse<RecoveryPath>(reader.GetString(reader.GetOrdinal("path"))),
            Step = step is null ? null : Enum.Parse<Step>(step),
            Attempt = reader.GetInt32(reader.GetOrdinal("attempt")),
            WaveId = reader.IsDBNull(wave) ? null : reader.GetGuid(wave),
            Version = reader.GetInt64(reader.GetOrdinal("version")),
            Failures = reader.GetInt32(reader.GetOrdinal("failures")),
            TechnicianId = reader.IsDBNull(technician) ? null : reader.GetGuid(technician),
            ReservedPart = reader.GetNullableString("reserved_part"),
            RemoteBoot = reader.GetBoolean(reader.GetOrdinal("remote_boot")),
        };
    }
}
