using Npgsql;
using NpgsqlTypes;

namespace Reimage.Orchestrator.Audit;

/// <summary>What <see cref="CheckpointVerifier.VerifyAsync"/> found.</summary>
public sealed record CheckpointResult(int Checked, Checkpoint? Latest, IReadOnlyList<string> Findings)
{
    public bool Intact => Findings.Count == 0;
}

/// <summary>
/// Holds the database against signed checkpoints kept elsewhere. Each checkpoint must carry a valid signature of the
/// given public key and name the hash of the one before it (a missing or edited checkpoint breaks the sequence); the
/// changed heads, replayed from the first checkpoint, must rebuild each checkpoint's Merkle root. Then every machine's
/// latest sealed head must still be one of its events: the chains are hash chains, so a head that is still there,
/// in a chain <see cref="AuditVerifier"/> finds intact, proves that nothing up to it was changed. A rewrite that edited
/// an event and recomputed every later hash and the chain head passes the chain check, and fails this one.
/// </summary>
public static class CheckpointVerifier
{
    public static async Task<CheckpointResult> VerifyAsync(NpgsqlDataSource db, IReadOnlyList<Checkpoint> given, byte[] publicKey, CancellationToken ct)
    {
        var findings = new List<string>();
        var checkpoints = given.OrderBy(c => c.Id).ToList();
        var keyId = CheckpointKey.IdOf(publicKey);
        var heads = new Dictionary<Guid, ChainHead>();
        var rebuilt = checkpoints.Count > 0 && checkpoints[0].Id == 1;
        var latestSeal = new Dictionary<Guid, (ChainHead Head, Checkpoint By)>();
        Checkpoint? before = null;
        foreach (var checkpoint in checkpoints)
        {
            if (!CheckpointKey.Verify(publicKey, checkpoint.BodyBytes, checkpoint.Signature))
            {
                findings.Add(checkpoint.KeyId == keyId
                    ? $"checkpoint {checkpoint.Id}: the signature does not match its content: it was altered"
                    : $"checkpoint {checkpoint.Id}: signed by key {checkpoint.KeyId}, not by this installation's key {keyId}");
                before = null;
                rebuilt = false;
                continue;
            }

            if (before is null ? checkpoint.Id == 1 && checkpoint.Previous is not null : checkpoint.Id != before.Id + 1)
            {
                findings.Add(before is null
                    ? $"checkpoint 1 names a previous checkpoint: it is not the first"
                    : $"checkpoint(s) {before.Id + 1}–{checkpoint.Id - 1} are missing between {before.Id} and {checkpoint.Id}");
                rebuilt = false;
            }
            else if (before is not null && (checkpoint.Previous is null || !checkpoint.Previous.AsSpan().SequenceEqual(before.Hash)))
            {
                findings.Add($"checkpoint {checkpoint.Id} does not follow checkpoint {before.Id}: it names another previous checkpoint");
                rebuilt = false;
            }

            foreach (var head in checkpoint.Changed)
            {
                heads[head.MachineId] = head;
                latestSeal[head.MachineId] = (head, checkpoint);
            }

            if (rebuilt)
            {
                var root = MerkleTree.Root(MerkleTree.Order(heads.Values));
                if (heads.Count != checkpoint.Machines || !root.AsSpan().SequenceEqual(checkpoint.Root))
                {
                    findings.Add($"checkpoint {checkpoint.Id}: its changed heads, replayed from checkpoint 1, do not rebuild its Merkle root");
                    rebuilt = false;
                }
            }

            before = checkpoint;
        }

        // Every machine's latest sealed head must still be an event of that machine.
        var found = new Dictionary<string, Guid>(StringComparer.Ordinal);
        foreach (var chunk in latestSeal.Values.Select(s => s.Head.Head).Chunk(20_000))
        {
            await using var select = db.CreateCommand(
                "SELECT e.machine_id, e.hash FROM reimage.machine_events e JOIN unnest(@heads) AS h(hash) ON e.hash = h.hash");
            select.Parameters.Add(new NpgsqlParameter("heads", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = chunk });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                found[Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(1))] = reader.GetGuid(0);
            }
        }

        foreach (var (machine, (head, by)) in latestSeal.OrderBy(s => s.Value.By.Id))
        {
            if (!found.TryGetValue(Convert.ToHexStringLower(head.Head), out var owner) || owner != machine)
            {
                findings.Add($"machine {machine}: its chain was rewritten or cut since checkpoint {by.Id} ({by.SealedAt:u}): "
                    + $"the head sealed then ({Convert.ToHexStringLower(head.Head)[..16]}…) is no longer one of its events");
            }
        }

        return new CheckpointResult(checkpoints.Count, checkpoints.LastOrDefault(), findings);
    }

    /// <summary>Checkpoints held outside the database that the database no longer holds, or holds differently.</summary>
    public static IEnumerable<string> CompareWithDatabase(IReadOnlyList<Checkpoint> outside, IReadOnlyList<Checkpoint> inDatabase)
    {
        var stored = inDatabase.ToDictionary(c => c.Id);
        foreach (var checkpoint in outside)
        {
            if (!stored.TryGetValue(checkpoint.Id, out var there))
            {
                yield return $"checkpoint {checkpoint.Id} is missing from the database (it was deleted there)";
            }
            else if (there.Body != checkpoint.Body || !there.Signature.AsSpan().SequenceEqual(checkpoint.Signature))
            {
                yield return $"checkpoint {checkpoint.Id} in the database differs from the copy outside it";
            }
        }
    }
}
