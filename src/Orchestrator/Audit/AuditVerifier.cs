using Npgsql;

namespace Reimage.Orchestrator.Audit;

/// <summary>One place where a machine's chain does not hold.</summary>
public sealed record AuditFinding(long EventId, Guid MachineId, string Problem);

/// <summary>What <see cref="AuditVerifier.VerifyAsync"/> found.</summary>
public sealed record AuditResult(long Events, long Machines, IReadOnlyList<AuditFinding> Findings)
{
    public bool Intact => Findings.Count == 0;

    /// <summary>The earliest event (by id) at which a chain breaks.</summary>
    public AuditFinding? First => Findings.OrderBy(f => f.EventId).FirstOrDefault();
}

/// <summary>
/// Recomputes every machine's event chain from the stored events, independently of the SQL that wrote them, and
/// compares it with the stored hashes and with each machine's chain head. An edited event no longer matches its
/// hash; a deleted or reordered one breaks the link of the event after it; deleted latest events leave the chain
/// head pointing at a hash no event has. Evidence items and custody transfers are checked against the events that
/// sealed them (<see cref="Evidence.EvidenceSeal"/>): an edited, added or deleted evidence or custody row is caught.
/// </summary>
public static class AuditVerifier
{
    public static async Task<AuditResult> VerifyAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        var heads = new Dictionary<Guid, byte[]?>();
        await using (var select = db.CreateCommand("SELECT machine_id, chain_head FROM reimage.recoveries"))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                heads[reader.GetGuid(0)] = reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1);
            }
        }

        var findings = new List<AuditFinding>();
        long events = 0;
        var seen = new HashSet<Guid>();
        Guid machine = default;
        byte[]? expectedPrev = null;
        long lastId = 0;
        await using (var select = db.CreateCommand(
            """
            SELECT id, machine_id, occurred_at, time_zone, actor, origin, kind, from_state, to_state, step, detail, prev_hash, hash
            FROM reimage.machine_events ORDER BY machine_id, id
            """))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                events++;
                var id = reader.GetInt64(0);
                var machineId = reader.GetGuid(1);
                if (machineId != machine)
                {
                    if (seen.Count > 0)
                    {
                        CheckHead(machine, expectedPrev, lastId, heads, findings);
                    }

                    machine = machineId;
                    seen.Add(machineId);
                    expectedPrev = null;
                    lastId = 0;
                }

                var prev = reader.IsDBNull(11) ? null : reader.GetFieldValue<byte[]>(11);
                var stored = reader.GetFieldValue<byte[]>(12);
                var recomputed = AuditChain.Hash(prev, machineId, reader.GetFieldValue<DateTime>(2), reader.GetString(3), reader.GetString(4),
                    reader.GetString(5), reader.GetString(6), Text(reader, 7), Text(reader, 8), Text(reader, 9), Text(reader, 10));
                if (!recomputed.AsSpan().SequenceEqual(stored))
                {
                    findings.Add(new AuditFinding(id, machineId, $"event {id} was edited: its content no longer matches its hash"));
                }
                else if (!Same(prev, expectedPrev))
                {
                    findings.Add(new AuditFinding(id, machineId, lastId == 0
                        ? $"event {id} is not the first of its machine's chain: earlier events were deleted"
                        : $"event {id} does not follow event {lastId}: an event between them was deleted, or events were reordered"));
                }

                expectedPrev = stored;
                lastId = id;
            }
        }

        if (seen.Count > 0)
        {
            CheckHead(machine, expectedPrev, lastId, heads, findings);
        }

        foreach (var (orphan, head) in heads.Where(h => h.Value is not null && !seen.Contains(h.Key)))
        {
            findings.Add(new AuditFinding(0, orphan, $"machine {orphan} has a chain head but no events: its events were deleted"));
        }

        await VerifyEvidenceAsync(db, findings, ct);
        return new AuditResult(events, seen.Count, findings);
    }

    /// <summary>Every evidence and custody row must match the seal its machine's chain holds for it, and every seal must have its row.</summary>
    private static async Task VerifyEvidenceAsync(NpgsqlDataSource db, List<AuditFinding> findings, CancellationToken ct)
    {
        // "evidence item <id>" / "custody transfer <id>" -> (the full seal line, the event holding it, its machine)
        var sealedLines = new Dictionary<string, (string Line, long EventId, Guid MachineId)>(StringComparer.Ordinal);
        await using (var select = db.CreateCommand(
            $"SELECT id, machine_id, detail FROM reimage.machine_events WHERE kind IN ('{Evidence.EvidenceSeal.ItemKind}', '{Evidence.EvidenceSeal.TransferKind}') ORDER BY id"))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                foreach (var line in (reader.IsDBNull(2) ? "" : reader.GetString(2)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    sealedLines[Evidence.EvidenceSeal.NameOf(line)] = (line, reader.GetInt64(0), reader.GetGuid(1));
                }
            }
        }

        void Check(string seal, Guid machineId, string what)
        {
            var key = Evidence.EvidenceSeal.NameOf(seal);
            if (!sealedLines.Remove(key, out var found))
            {
                findings.Add(new AuditFinding(0, machineId, $"{what} is not sealed in its machine's chain: it was added outside Reimage"));
            }
            else if (found.Line != seal)
            {
                findings.Add(new AuditFinding(found.EventId, machineId, $"{what} was changed after it was recorded (it no longer matches the seal in event {found.EventId})"));
            }
        }

        await using (var select = db.CreateCommand(
            """
            SELECT id, machine_id, drive_serial, drive_model, hostname, mac_addresses, ip_address, evidence_bag_id, seal_id, collected_by,
                   collected_at, time_zone, storage_location, case_number
            FROM reimage.evidence_items
            """))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var item = new Evidence.EvidenceItem
                {
                    Id = reader.GetGuid(0), MachineId = reader.GetGuid(1), DriveSerial = reader.GetString(2), DriveModel = Text(reader, 3),
                    Hostname = reader.GetString(4), MacAddresses = [.. reader.GetFieldValue<string[]>(5)], IpAddress = Text(reader, 6),
                    EvidenceBagId = reader.GetString(7), SealId = reader.GetString(8), CollectedBy = reader.GetString(9),
                    CollectedAt = reader.GetFieldValue<DateTimeOffset>(10), TimeZone = reader.GetString(11), StorageLocation = reader.GetString(12),
                    CaseNumber = reader.GetString(13),
                };
                Check(Evidence.EvidenceSeal.Item(item), item.MachineId, $"evidence item {item.Id}");
            }
        }

        await using (var select = db.CreateCommand(
            """
            SELECT t.id, t.evidence_item_id, t."from", t."to", t.to_account, t.entered_by, t.location, t.at, t.time_zone, t.note, e.machine_id
            FROM reimage.custody_transfers t LEFT JOIN reimage.evidence_items e ON e.id = t.evidence_item_id
            """))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var transfer = new Evidence.CustodyTransfer
                {
                    Id = reader.GetInt64(0), EvidenceItemId = reader.GetGuid(1), From = reader.GetString(2), To = reader.GetString(3),
                    ToAccount = Text(reader, 4), EnteredBy = reader.GetString(5), Location = reader.GetString(6),
                    At = reader.GetFieldValue<DateTimeOffset>(7), TimeZone = reader.GetString(8), Note = Text(reader, 9),
                };
                Check(Evidence.EvidenceSeal.Transfer(transfer), reader.IsDBNull(10) ? Guid.Empty : reader.GetGuid(10), $"custody transfer {transfer.Id}");
            }
        }

        foreach (var (what, found) in sealedLines)
        {
            findings.Add(new AuditFinding(found.EventId, found.MachineId, $"{what} was deleted: event {found.EventId} sealed it, and it is gone"));
        }
    }

    private static void CheckHead(Guid machine, byte[]? last, long lastId, Dictionary<Guid, byte[]?> heads, List<AuditFinding> findings)
    {
        if (heads.TryGetValue(machine, out var head) && !Same(head, last))
        {
            findings.Add(new AuditFinding(lastId + 1, machine, $"the latest events of machine {machine} after event {lastId} were deleted (its chain head points past them)"));
        }
    }

    private static bool Same(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
