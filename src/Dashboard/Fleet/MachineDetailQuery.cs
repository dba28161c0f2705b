using Npgsql;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Fleet;

/// <summary>One machine as its detail page shows it: inventory, where its recovery stands, its history and its evidence.</summary>
public sealed record MachineDetail(
    Guid Id, string Hostname, string? AssetTag, string? SerialNumber, string Site, string? Building, string? Floor, string? Room,
    string? Department, string? Owner, string Role, int Criticality, IReadOnlyList<string> MacAddresses,
    RecoveryState State, RecoveryPath Path, Step? Step, int Attempt, string? Wave, DateTimeOffset StateChangedAt, string? FailureReason,
    IReadOnlyList<MachineEventView> Events, IReadOnlyList<EvidenceView> Evidence, string? Model, string? DiskType, string? HeldBy)
{
    public string Location => string.Join(" · ", new[] { Building, Floor is null ? null : $"floor {Floor}", Room is null ? null : $"room {Room}" }.Where(p => p is not null));

    /// <summary>Waiting for a technician's hands (the technician's tablet offers the check-off).</summary>
    public bool AtHandsOnStep => State == RecoveryState.InProgress && RecoveryPaths.HandsOnSteps.Contains(Step?.ToString());
}

public sealed record MachineEventView(DateTimeOffset At, string Actor, string Origin, string Kind, string? From, string? To, string? Step, string? Detail);

public sealed record EvidenceView(string? DriveSerial, string? EvidenceBagId, string? SealId, string CollectedBy, DateTimeOffset CollectedAt, string? StorageLocation,
    IReadOnlyList<CustodyView> Transfers, string? CaseNumber = null);

public sealed record CustodyView(string From, string To, string Location, DateTimeOffset At, string? Note);

public sealed class MachineDetailQuery(NpgsqlDataSource db)
{
    /// <summary>The newest events first; a machine's history beyond this is in the audit export.</summary>
    public const int EventLimit = 200;

    public async Task<MachineDetail?> FindAsync(Guid id, CancellationToken ct)
    {
        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(Command(
            """
            SELECT m.hostname, m.asset_tag, m.serial_number, s.code, m.building, m.floor, m.room, m.department, m.owner, m.role, m.criticality,
                   m.mac_addresses, r.state, r.path, r.step, r.attempt, w.name, r.state_changed_at, r.failure_reason, m.model, m.disk_type, t.name
            FROM reimage.machines m
            JOIN reimage.recoveries r ON r.machine_id = m.id
            JOIN reimage.sites s ON s.id = m.site_id
            LEFT JOIN reimage.waves w ON w.id = r.wave_id
            LEFT JOIN reimage.technicians t ON t.id = r.technician_id
            WHERE m.id = @id
            """, id));
        batch.BatchCommands.Add(Command(
            $"SELECT occurred_at, actor, origin, kind, from_state, to_state, step, detail FROM reimage.machine_events WHERE machine_id = @id ORDER BY id DESC LIMIT {EventLimit}", id));
        batch.BatchCommands.Add(Command(
            """
            SELECT e.drive_serial, e.evidence_bag_id, e.seal_id, e.collected_by, e.collected_at, e.storage_location,
                   t."from", t."to", t.location, t.at, t.note, e.id, e.case_number
            FROM reimage.evidence_items e LEFT JOIN reimage.custody_transfers t ON t.evidence_item_id = e.id
            WHERE e.machine_id = @id ORDER BY e.collected_at, e.id, t.id
            """, id));
        await using var reader = await batch.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        string? S(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        var machine = (Hostname: reader.GetString(0), AssetTag: S(1), Serial: S(2), Site: reader.GetString(3), Building: S(4), Floor: S(5), Room: S(6),
            Department: S(7), Owner: S(8), Role: reader.GetString(9), Criticality: reader.GetInt32(10), Macs: reader.GetFieldValue<string[]>(11),
            State: Enum.Parse<RecoveryState>(reader.GetString(12)), Path: Enum.Parse<RecoveryPath>(reader.GetString(13)),
            Step: S(14) is { } step ? Enum.Parse<Step>(step) : (Step?)null, Attempt: reader.GetInt32(15),
            Wave: S(16), Changed: reader.GetFieldValue<DateTimeOffset>(17), Failure: S(18), Model: S(19), DiskType: S(20), HeldBy: S(21));

        await reader.NextResultAsync(ct);
        var events = new List<MachineEventView>();
        while (await reader.ReadAsync(ct))
        {
            events.Add(new(reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), S(4), S(5), S(6), S(7)));
        }

        await reader.NextResultAsync(ct);
        var evidence = new List<(Guid Id, EvidenceView Item, List<CustodyView> Transfers)>();
        while (await reader.ReadAsync(ct))
        {
            if (evidence.Count == 0 || evidence[^1].Id != reader.GetGuid(11))
            {
                evidence.Add((reader.GetGuid(11), new EvidenceView(S(0), S(1), S(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4), S(5), [], S(12)), []));
            }

            if (!reader.IsDBNull(9))
            {
                evidence[^1].Transfers.Add(new(reader.GetString(6), reader.GetString(7), reader.GetString(8), reader.GetFieldValue<DateTimeOffset>(9), S(10)));
            }
        }

        return new MachineDetail(id, machine.Hostname, machine.AssetTag, machine.Serial, machine.Site, machine.Building, machine.Floor, machine.Room,
            machine.Department, machine.Owner, machine.Role, machine.Criticality, machine.Macs, machine.State, machine.Path, machine.Step, machine.Attempt,
            machine.Wave, machine.Changed, machine.Failure, events, evidence.Select(e => e.Item with { Transfers = e.Transfers }).ToList(),
            machine.Model, machine.DiskType, machine.HeldBy);
    }

    private static NpgsqlBatchCommand Command(string sql, Guid id)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddWithValue("id", id);
        return command;
    }
}
