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
/// head pointing at a hash no event has.
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

        return new AuditResult(events, seen.Count, findings);
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
