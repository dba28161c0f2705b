using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CsvHelper;
using Npgsql;
using NpgsqlTypes;
using Reimage.Orchestrator.Audit;

namespace Reimage.Orchestrator.Evidence;

/// <summary>What a bundle holds, as <see cref="EvidenceBundle.WriteAsync"/> reports it.</summary>
public sealed record BundleSummary(long CheckpointId, int Machines, int Items, int Transfers, int Events);

/// <summary>What <see cref="EvidenceBundle.Verify"/> found.</summary>
public sealed record BundleVerification(BundleSummary? Summary, string? CaseNumber, string? Site, string KeyId, bool KeyFromBundle, IReadOnlyList<string> Findings)
{
    public bool Intact => Findings.Count == 0;
}

/// <summary>
/// A sealed evidence bundle for a case or a site, to hand to investigators, insurers or a court: one ZIP archive that
/// proves itself offline with nothing but Reimage's public checkpoint key. It holds the covering signed checkpoint
/// (sealed when the bundle is made), and for every machine with evidence in scope its whole event chain up to the head
/// that checkpoint sealed, with a Merkle inclusion proof of that head; every evidence item and custody transfer of
/// those machines (each sealed in its machine's chain); and the register of the case or site as CSV, made from them.
/// <see cref="Verify"/> checks the signature, each inclusion proof, each chain event by event, each evidence and custody
/// row against its seal, that no sealed row is missing, and that the register is exactly the one the rows make.
/// </summary>
public static class EvidenceBundle
{
    public const string Format = "reimage-evidence-bundle/1";

    /// <summary>Writes the bundle of <paramref name="caseNumber"/> and/or <paramref name="siteCode"/>; null when nothing is in scope.</summary>
    public static async Task<BundleSummary?> WriteAsync(
        NpgsqlDataSource db, Checkpoints checkpoints, string publicKeyHex, string? caseNumber, string? siteCode, DateTimeOffset now, Stream output, CancellationToken ct)
    {
        var machines = new List<(Guid Id, string Hostname)>();
        await using (var select = db.CreateCommand(
            $"""
            SELECT m.id, m.hostname FROM reimage.machines m JOIN reimage.sites s ON s.id = m.site_id
            WHERE (@site::text IS NULL OR lower(s.code) = lower(@site)) AND (
                EXISTS (SELECT 1 FROM reimage.evidence_items e WHERE e.machine_id = m.id AND (@case::text IS NULL OR e.case_number = @case))
                OR (@case::text IS NULL AND EXISTS (SELECT 1 FROM reimage.machine_events ev WHERE ev.machine_id = m.id AND ev.kind = 'transition'
                    AND starts_with(ev.detail, '{Workflow.EvidenceExceptions.DetailPrefix}'))))
            ORDER BY m.id
            """))
        {
            select.Parameters.AddWithValue("site", (object?)siteCode ?? DBNull.Value);
            select.Parameters.AddWithValue("case", (object?)caseNumber ?? DBNull.Value);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                machines.Add((reader.GetGuid(0), reader.GetString(1)));
            }
        }

        if (machines.Count == 0 || await checkpoints.CoveringAsync(ct) is not { } covering)
        {
            return null;
        }

        var (checkpoint, leaves) = covering;
        var index = leaves.Select((leaf, i) => (leaf, i)).ToDictionary(x => x.leaf.MachineId, x => x.i);
        var ids = machines.Select(m => m.Id).Where(index.ContainsKey).ToArray();

        // Each chain from its first event up to the head the checkpoint sealed; later events are not covered yet.
        var events = new List<BundledEvent>();
        await using (var select = db.CreateCommand(
            """
            SELECT id, machine_id, occurred_at, time_zone, actor, origin, kind, from_state, to_state, step, detail, prev_hash, hash
            FROM reimage.machine_events WHERE machine_id = ANY(@ids) ORDER BY machine_id, id
            """))
        {
            select.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = ids });
            await using var reader = await select.ExecuteReaderAsync(ct);
            var done = new HashSet<Guid>();
            while (await reader.ReadAsync(ct))
            {
                var machine = reader.GetGuid(1);
                if (done.Contains(machine))
                {
                    continue;
                }

                string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                var hash = reader.GetFieldValue<byte[]>(12);
                events.Add(new BundledEvent(reader.GetInt64(0), machine, reader.GetFieldValue<DateTime>(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                    reader.GetString(6), Text(7), Text(8), Text(9), Text(10), reader.IsDBNull(11) ? null : Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(11)),
                    Convert.ToHexStringLower(hash)));
                if (hash.AsSpan().SequenceEqual(leaves[index[machine]].Head))
                {
                    done.Add(machine);
                }
            }
        }

        var sealedLines = SealLines(events);
        var items = new List<EvidenceItem>();
        var transfers = new List<CustodyTransfer>();
        await using (var select = db.CreateCommand(
            """
            SELECT id, machine_id, drive_serial, drive_model, hostname, mac_addresses, ip_address, evidence_bag_id, seal_id, collected_by,
                   collected_at, time_zone, storage_location, case_number
            FROM reimage.evidence_items WHERE machine_id = ANY(@ids) ORDER BY collected_at, id
            """))
        {
            select.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = ids });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var item = new EvidenceItem
                {
                    Id = reader.GetGuid(0), MachineId = reader.GetGuid(1), DriveSerial = reader.GetString(2), DriveModel = reader.IsDBNull(3) ? null : reader.GetString(3),
                    Hostname = reader.GetString(4), MacAddresses = [.. reader.GetFieldValue<string[]>(5)], IpAddress = reader.IsDBNull(6) ? null : reader.GetString(6),
                    EvidenceBagId = reader.GetString(7), SealId = reader.GetString(8), CollectedBy = reader.GetString(9),
                    CollectedAt = reader.GetFieldValue<DateTimeOffset>(10), TimeZone = reader.GetString(11), StorageLocation = reader.GetString(12),
                    CaseNumber = reader.GetString(13),
                };
                if (sealedLines.ContainsKey(EvidenceSeal.NameOf(EvidenceSeal.Item(item)))) // sealed before the checkpoint: covered
                {
                    items.Add(item);
                }
            }
        }

        await using (var select = db.CreateCommand(
            """
            SELECT id, evidence_item_id, "from", "to", to_account, entered_by, location, at, time_zone, note
            FROM reimage.custody_transfers WHERE evidence_item_id = ANY(@items) ORDER BY id
            """))
        {
            select.Parameters.Add(new NpgsqlParameter("items", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = items.Select(i => i.Id).ToArray() });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var transfer = new CustodyTransfer
                {
                    Id = reader.GetInt64(0), EvidenceItemId = reader.GetGuid(1), From = reader.GetString(2), To = reader.GetString(3),
                    ToAccount = reader.IsDBNull(4) ? null : reader.GetString(4), EnteredBy = reader.GetString(5), Location = reader.GetString(6),
                    At = reader.GetFieldValue<DateTimeOffset>(7), TimeZone = reader.GetString(8), Note = reader.IsDBNull(9) ? null : reader.GetString(9),
                };
                if (sealedLines.ContainsKey(EvidenceSeal.NameOf(EvidenceSeal.Transfer(transfer))))
                {
                    transfers.Add(transfer);
                }
            }
        }

        var bundled = machines.Where(m => index.ContainsKey(m.Id)).Select(m => new BundledMachine(m.Id, m.Hostname, index[m.Id], leaves.Count,
            Convert.ToHexStringLower(leaves[index[m.Id]].Head), [.. MerkleTree.Proof(leaves, index[m.Id]).Select(Convert.ToHexStringLower)])).ToList();
        var summary = new BundleSummary(checkpoint.Id, bundled.Count, items.Count, transfers.Count, events.Count);
        var manifest = new BundleManifest(Format, now, caseNumber, siteCode, publicKeyHex, checkpoint.KeyId, summary);
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        Add(zip, "manifest.json", JsonSerializer.Serialize(manifest, Json));
        Add(zip, "checkpoint.json", checkpoint.ToJson());
        Add(zip, "machines.json", JsonSerializer.Serialize(bundled, Json));
        Add(zip, "events.json", JsonSerializer.Serialize(events, Json));
        Add(zip, "evidence.json", JsonSerializer.Serialize(new BundledEvidence(items, transfers), Json));
        Add(zip, "register.csv", Register(items, transfers, events, caseNumber));
        Add(zip, "README.txt",
            $"""
            Reimage evidence bundle ({(caseNumber is null ? "" : $"case {caseNumber}")}{(caseNumber is not null && siteCode is not null ? ", " : "")}{(siteCode is null ? "" : $"site {siteCode}")}), made {now:u}.
            register.csv is the evidence register; evidence.json its rows; events.json every event of the machines concerned;
            checkpoint.json the signed checkpoint covering them, machines.json each machine's proof of inclusion in it.
            Verify offline: Reimage.Dashboard verify-bundle <this file> --public-key <the installation's published key>
            (the key in manifest.json is the bundle's own claim: compare it with the key the installation published).

            """);
        return summary;
    }

    /// <summary>Checks a bundle offline; <paramref name="publicKey"/> null: the key the bundle names (reported as such).</summary>
    public static BundleVerification Verify(Stream bundle, byte[]? publicKey)
    {
        var findings = new List<string>();
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(bundle, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            return new BundleVerification(null, null, null, "", false, [$"not a bundle (not a ZIP archive: {e.Message})"]);
        }

        using (zip)
        {
            BundleManifest manifest;
            Checkpoint checkpoint;
            List<BundledMachine> machines;
            List<BundledEvent> events;
            BundledEvidence evidence;
            string register;
            try
            {
                manifest = Read<BundleManifest>(zip, "manifest.json");
                if (manifest.Format != Format)
                {
                    return new BundleVerification(null, null, null, "", false, [$"manifest.json: format '{manifest.Format}', expected '{Format}'"]);
                }

                checkpoint = Checkpoint.Parse(Text(zip, "checkpoint.json"));
                machines = Read<List<BundledMachine>>(zip, "machines.json");
                events = Read<List<BundledEvent>>(zip, "events.json");
                evidence = Read<BundledEvidence>(zip, "evidence.json");
                register = Text(zip, "register.csv");
            }
            catch (Exception e) when (e is FormatException or JsonException or IOException or NotSupportedException or ArgumentException)
            {
                return new BundleVerification(null, null, null, "", false, [$"not a readable bundle: {e.Message}"]);
            }

            var keyFromBundle = publicKey is null;
            byte[] key;
            try
            {
                key = publicKey ?? CheckpointKey.ReadPublicKey(manifest.PublicKey);
            }
            catch (FormatException e)
            {
                return new BundleVerification(manifest.Summary, manifest.Case, manifest.Site, "", true, [$"manifest.json: {e.Message}"]);
            }

            // 1. The checkpoint: signed by the key.
            if (!CheckpointKey.Verify(key, checkpoint.BodyBytes, checkpoint.Signature))
            {
                findings.Add($"checkpoint {checkpoint.Id}: the signature does not verify with key {CheckpointKey.IdOf(key)}: the checkpoint was altered, or another key signed it");
            }

            // 2. Each machine's head is in the checkpoint's tree; 3. its chain leads to that head, event by event.
            var byMachine = events.GroupBy(e => e.MachineId).ToDictionary(g => g.Key, g => g.OrderBy(e => e.Id).ToList());
            foreach (var machine in machines)
            {
                var head = new ChainHead(machine.MachineId, Convert.FromHexString(machine.Head));
                if (machine.TreeSize != checkpoint.Machines || !MerkleTree.Verify(head, machine.LeafIndex, machine.TreeSize, [.. machine.Proof.Select(Convert.FromHexString)], checkpoint.Root))
                {
                    findings.Add($"machine {machine.Hostname} ({machine.MachineId}): its head is not proven to be in checkpoint {checkpoint.Id}");
                }

                byte[]? prev = null;
                foreach (var e in byMachine.GetValueOrDefault(machine.MachineId) ?? [])
                {
                    var hash = AuditChain.Hash(prev, e.MachineId, DateTime.SpecifyKind(e.OccurredAt, DateTimeKind.Utc), e.TimeZone, e.Actor, e.Origin, e.Kind,
                        e.FromState, e.ToState, e.Step, e.Detail);
                    if (!Convert.ToHexStringLower(hash).Equals(e.Hash, StringComparison.Ordinal) || e.PrevHash != (prev is null ? null : Convert.ToHexStringLower(prev)))
                    {
                        findings.Add($"machine {machine.Hostname}: event {e.Id} does not chain: it was edited, or events were removed or reordered");
                    }

                    prev = Convert.FromHexString(e.Hash);
                }

                if (prev is null || !prev.AsSpan().SequenceEqual(head.Head))
                {
                    findings.Add($"machine {machine.Hostname}: its events do not end at the head checkpoint {checkpoint.Id} sealed (events were removed or added)");
                }
            }

            foreach (var stray in byMachine.Keys.Except(machines.Select(m => m.MachineId)))
            {
                findings.Add($"events of machine {stray} are in the bundle without its proof");
            }

            // 4. Every evidence and custody row matches a seal in its machine's chain, and every seal has its row.
            var inBundle = machines.Select(m => m.MachineId).ToHashSet();
            var provenEvents = events.Where(e => inBundle.Contains(e.MachineId)).ToList();
            var seals = SealLines(provenEvents);
            var itemMachines = evidence.Items.ToDictionary(i => i.Id, i => i.MachineId);
            foreach (var item in evidence.Items)
            {
                Check(EvidenceSeal.Item(item), item.MachineId, $"evidence item {item.EvidenceBagId} ({item.Id})");
            }

            foreach (var transfer in evidence.Transfers)
            {
                Check(EvidenceSeal.Transfer(transfer), itemMachines.GetValueOrDefault(transfer.EvidenceItemId), $"custody transfer {transfer.Id} of item {transfer.EvidenceItemId}");
            }

            foreach (var (what, (_, machineId)) in seals)
            {
                findings.Add($"{what} is sealed in the chain of machine {machineId} but missing from the bundle");
            }

            // 5. The register is the one these rows make.
            if (Register(evidence.Items, evidence.Transfers, provenEvents, manifest.Case) != register)
            {
                findings.Add("register.csv is not the register of the sealed evidence: it was edited");
            }

            void Check(string seal, Guid machineId, string what)
            {
                if (!seals.Remove(EvidenceSeal.NameOf(seal), out var found))
                {
                    findings.Add($"{what} is not sealed in any chain of the bundle: it was added or its machine's chain is missing");
                }
                else if (found.Line != seal || found.MachineId != machineId)
                {
                    findings.Add($"{what} was changed: it no longer matches its seal in the chain of machine {found.MachineId}");
                }
            }

            return new BundleVerification(manifest.Summary, manifest.Case, manifest.Site, CheckpointKey.IdOf(key), keyFromBundle, findings);
        }
    }

    /// <summary>The register as CSV: one line per hand-over of each item in scope, then the evidence exceptions, in time order.</summary>
    private static string Register(IReadOnlyList<EvidenceItem> items, IReadOnlyList<CustodyTransfer> transfers, IReadOnlyList<BundledEvent> events, string? caseNumber)
    {
        var rows = new List<(DateTimeOffset At, string Order, string?[] Fields)>();
        foreach (var item in items.Where(i => caseNumber is null || i.CaseNumber == caseNumber))
        {
            foreach (var t in transfers.Where(t => t.EvidenceItemId == item.Id).OrderBy(t => t.Id))
            {
                rows.Add((item.CollectedAt, $"{item.Id:D}/{t.Id:D20}", [item.CaseNumber, item.EvidenceBagId, item.SealId, item.DriveSerial, item.DriveModel, item.Hostname,
                    string.Join(' ', item.MacAddresses), item.IpAddress, item.CollectedBy, Time(item.CollectedAt), item.TimeZone, t.From, t.To, t.ToAccount, t.EnteredBy,
                    t.Location, Time(t.At), t.Note]));
            }
        }

        if (caseNumber is null)
        {
            foreach (var e in events.Where(e => e.Kind == "transition" && e.Detail?.StartsWith(Workflow.EvidenceExceptions.DetailPrefix, StringComparison.Ordinal) == true))
            {
                var at = new DateTimeOffset(DateTime.SpecifyKind(e.OccurredAt, DateTimeKind.Utc));
                rows.Add((at, $"{e.MachineId:D}/{e.Id:D20}", ["", "", "", "", "", "", "", "", e.Actor, Time(at), e.TimeZone, "", "", "", e.Actor, "", Time(at), e.Detail]));
            }
        }

        var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = CsvWriter.Create(text, new CsvWriterOptions { Injection = CsvInjection.Escape, InjectionCharacters = "=+-@\t\r" }, true))
        {
            foreach (var header in (string[])["case_number", "evidence_bag_id", "seal_id", "drive_serial", "drive_model", "hostname", "mac_addresses", "ip_address",
                "collected_by", "collected_at", "time_zone", "handed_from", "handed_to", "handed_to_account", "entered_by", "location", "handed_at", "note"])
            {
                csv.WriteField(header);
            }

            csv.EndRecord();
            foreach (var row in rows.OrderBy(r => r.At).ThenBy(r => r.Order, StringComparer.Ordinal))
            {
                foreach (var field in row.Fields)
                {
                    csv.WriteField(field ?? "");
                }

                csv.EndRecord();
            }

            csv.Flush();
        }

        return text.ToString();
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>"evidence item …" / "custody transfer …" → (the whole seal line, the machine whose chain holds it).</summary>
    private static Dictionary<string, (string Line, Guid MachineId)> SealLines(IEnumerable<BundledEvent> events)
    {
        var lines = new Dictionary<string, (string, Guid)>(StringComparer.Ordinal);
        foreach (var e in events.Where(e => e.Kind is EvidenceSeal.ItemKind or EvidenceSeal.TransferKind))
        {
            foreach (var line in (e.Detail ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                lines[EvidenceSeal.NameOf(line)] = (line, e.MachineId);
            }
        }

        return lines;
    }

    private static void Add(ZipArchive zip, string name, string content)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        using var stream = entry.Open();
        stream.Write(Encoding.UTF8.GetBytes(content));
    }

    private static string Text(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name) ?? throw new FormatException($"{name} is missing");
        if (entry.Length > 1L << 30)
        {
            throw new FormatException($"{name} is larger than 1 GiB");
        }

        using var reader = new StreamReader(entry.Open(), Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static T Read<T>(ZipArchive zip, string name) =>
        JsonSerializer.Deserialize<T>(Text(zip, name), Json) ?? throw new FormatException($"{name} is empty");

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private sealed record BundleManifest(string Format, DateTimeOffset CreatedAt, string? Case, string? Site, string PublicKey, string KeyId, BundleSummary Summary);

    private sealed record BundledMachine(Guid MachineId, string Hostname, int LeafIndex, int TreeSize, string Head, List<string> Proof);

    private sealed record BundledEvent(long Id, Guid MachineId, DateTime OccurredAt, string TimeZone, string Actor, string Origin, string Kind,
        string? FromState, string? ToState, string? Step, string? Detail, string? PrevHash, string Hash);

    private sealed record BundledEvidence(List<EvidenceItem> Items, List<CustodyTransfer> Transfers);
}
