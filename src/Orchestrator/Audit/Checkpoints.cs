using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Reimage.Orchestrator.Audit;

public sealed class CheckpointOptions
{
    public const string Section = "Reimage:Audit";

    /// <summary>The signing key file (see <see cref="CheckpointKey"/>); by default in the data directory.</summary>
    public string? SigningKey { get; set; }

    /// <summary>
    /// The append-only directory every checkpoint is also written to, one file each, never overwritten; by default
    /// <c>&lt;Reimage:DataDirectory&gt;/checkpoints</c>. Put it where the database's administrators cannot write
    /// (another host's share, a WORM bucket's mount). Several nodes: one shared directory. Empty: none.
    /// </summary>
    public string? CheckpointDirectory { get; set; }

    /// <summary>An HTTPS endpoint each checkpoint is also POSTed to as JSON (retried each minute until it answers 2xx).</summary>
    public Uri? CheckpointWebhook { get; set; }
}

/// <summary>
/// Seals the machines' chain heads into signed <see cref="Checkpoint"/>s, each minute while anything changed, and
/// copies every checkpoint outside the database (a directory, a webhook). Whoever can rewrite the database can
/// recompute every hash and chain head, but cannot sign, and cannot reach the copies: <c>verify-audit --checkpoints</c>
/// then finds that a head sealed earlier is no longer in its machine's chain. The only writer of checkpoints and of
/// <c>audit_checkpoint_heads</c> (the heads as of the latest checkpoint, from which the next one's changes are taken).
/// </summary>
public sealed class Checkpoints(
    NpgsqlDataSource db, CheckpointKey key, IOptions<CheckpointOptions> options, IConfiguration configuration, TimeProvider clock,
    IHttpClientFactory http, ILogger<Checkpoints> logger)
{
    /// <summary>Serialises sealers and exporters across every node of the installation.</summary>
    private const long LockId = 7_403_119_001;

    public string PublicKeyHex => key.PublicKeyHex;

    public string KeyId => key.Id;

    /// <summary>Where checkpoints are copied to, or null for nowhere.</summary>
    public string? Directory
    {
        get
        {
            var configured = options.Value.CheckpointDirectory;
            return configured is null
                ? Path.GetFullPath(Path.Combine(configuration["Reimage:DataDirectory"] ?? ".reimage", "checkpoints"))
                : configured.Length == 0 ? null : Path.GetFullPath(configured);
        }
    }

    /// <summary>Seals a checkpoint when a chain head moved since the last one; null when nothing changed.</summary>
    public async Task<Checkpoint?> SealAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await Lock(connection, ct);
        var (sealedNow, _) = await SealLockedAsync(connection, ct);
        await tx.CommitAsync(ct);
        return sealedNow;
    }

    /// <summary>
    /// A checkpoint that covers every chain as it is now (sealed now if anything changed, else the latest), with all
    /// the heads it sealed (its tree's leaves, for inclusion proofs); null when there are no chains at all.
    /// </summary>
    public async Task<(Checkpoint Checkpoint, List<ChainHead> Leaves)?> CoveringAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await Lock(connection, ct);
        var (sealedNow, leaves) = await SealLockedAsync(connection, ct);
        var checkpoint = sealedNow ?? (await ReadAsync(connection, "ORDER BY id DESC LIMIT 1", ct)).SingleOrDefault();
        await tx.CommitAsync(ct);
        return checkpoint is null ? null : (checkpoint, MerkleTree.Order(leaves));
    }

    /// <summary>Under the lock: seals when a head moved; either way returns the heads as of the latest checkpoint.</summary>
    private async Task<(Checkpoint? Sealed, List<ChainHead> All)> SealLockedAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        // One statement, one snapshot: every head read here is the hash of a committed event.
        var changed = new List<ChainHead>();
        await using (var select = new NpgsqlCommand(
            """
            SELECT r.machine_id, r.chain_head FROM reimage.recoveries r
            LEFT JOIN reimage.audit_checkpoint_heads h ON h.machine_id = r.machine_id
            WHERE r.chain_head IS NOT NULL AND h.head IS DISTINCT FROM r.chain_head
            """, connection))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                changed.Add(new ChainHead(reader.GetGuid(0), reader.GetFieldValue<byte[]>(1)));
            }
        }

        changed = MerkleTree.Order(changed);
        if (changed.Count > 0)
        {
            await using var upsert = new NpgsqlCommand(
                """
                INSERT INTO reimage.audit_checkpoint_heads (machine_id, head) SELECT * FROM unnest(@ids, @heads)
                ON CONFLICT (machine_id) DO UPDATE SET head = excluded.head
                """, connection);
            upsert.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = changed.Select(c => c.MachineId).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter("heads", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = changed.Select(c => c.Head).ToArray() });
            await upsert.ExecuteNonQueryAsync(ct);
        }

        var all = new List<ChainHead>();
        await using (var select = new NpgsqlCommand("SELECT machine_id, head FROM reimage.audit_checkpoint_heads", connection))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                all.Add(new ChainHead(reader.GetGuid(0), reader.GetFieldValue<byte[]>(1)));
            }
        }

        if (changed.Count == 0)
        {
            return (null, all);
        }

        var previous = (await ReadAsync(connection, "ORDER BY id DESC LIMIT 1", ct)).SingleOrDefault();
        var unsigned = new Checkpoint((previous?.Id ?? 0) + 1, Micro(clock.GetUtcNow()), all.Count, MerkleTree.Root(MerkleTree.Order(all)),
            previous?.Hash, changed, key.Id, []);
        var checkpoint = unsigned with { Signature = key.Sign(unsigned.BodyBytes) };
        await using (var insert = new NpgsqlCommand(
            """
            INSERT INTO reimage.audit_checkpoints (id, sealed_at, machines, root, previous, changed, key_id, signature)
            VALUES (@id, @at, @machines, @root, @previous, @changed, @key, @signature)
            """, connection))
        {
            insert.Parameters.AddWithValue("id", checkpoint.Id);
            insert.Parameters.AddWithValue("at", checkpoint.SealedAt);
            insert.Parameters.AddWithValue("machines", checkpoint.Machines);
            insert.Parameters.AddWithValue("root", checkpoint.Root);
            insert.Parameters.Add(new NpgsqlParameter("previous", NpgsqlDbType.Bytea) { Value = (object?)checkpoint.Previous ?? DBNull.Value });
            insert.Parameters.AddWithValue("changed", Checkpoint.ChangedLines(checkpoint.Changed));
            insert.Parameters.AddWithValue("key", checkpoint.KeyId);
            insert.Parameters.AddWithValue("signature", checkpoint.Signature);
            await insert.ExecuteNonQueryAsync(ct);
        }

        logger.LogInformation("Audit checkpoint {Id} sealed {Changed} changed chain head(s) of {Machines}", checkpoint.Id, changed.Count, checkpoint.Machines);
        return (checkpoint, all);
    }

    /// <summary>
    /// Copies every checkpoint not yet copied to the directory and the webhook; a checkpoint counts as copied only
    /// when every configured place has it. A file is never overwritten: one that exists with other content is reported.
    /// </summary>
    public async Task<int> ExportAsync(CancellationToken ct)
    {
        // No lock or transaction is held across the copying: a slow webhook must not hold up sealing on every node. Two
        // nodes copying at once write the same file (an identical file counts as written) and may POST a checkpoint twice
        // (receivers tell them apart by id).
        var directory = Directory;
        var webhook = options.Value.CheckpointWebhook;
        var exported = 0;
        foreach (var checkpoint in await ReadAllAsync(db, "WHERE exported_at IS NULL ORDER BY id", ct))
        {
            var json = checkpoint.ToJson();
            if (directory is not null && !WriteOnce(directory, checkpoint, json))
            {
                break;
            }

            if (webhook is not null)
            {
                try
                {
                    using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
                    using var response = await http.CreateClient(nameof(Checkpoints)).PostAsync(webhook, content, ct);
                    response.EnsureSuccessStatusCode(); // not accepted: not delivered
                }
                catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested))
                {
                    // Refused, unreachable, or too slow (the client's timeout): the next minute tries again.
                    logger.LogWarning("Audit checkpoint {Id} not delivered to the webhook {Host}: {Reason}; retried next minute", checkpoint.Id, webhook.Host, e.Message);
                    break;
                }
            }

            await using var mark = db.CreateCommand("UPDATE reimage.audit_checkpoints SET exported_at = now() WHERE id = @id AND exported_at IS NULL");
            mark.Parameters.AddWithValue("id", checkpoint.Id);
            exported += await mark.ExecuteNonQueryAsync(ct);
        }

        return exported;
    }

    private static async Task<List<Checkpoint>> ReadAllAsync(NpgsqlDataSource db, string where, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await ReadAsync(connection, where, ct);
    }

    /// <summary>Every checkpoint in the database after <paramref name="afterId"/>, oldest first.</summary>
    public static Task<List<Checkpoint>> ReadAllAsync(NpgsqlDataSource db, long afterId, CancellationToken ct) =>
        ReadAllAsync(db, $"WHERE id > {afterId} ORDER BY id", ct);

    /// <summary>Every checkpoint file in <paramref name="directory"/>, oldest first; <see cref="FormatException"/> naming a bad file.</summary>
    public static List<Checkpoint> ReadDirectory(string directory)
    {
        var found = new List<Checkpoint>();
        foreach (var file in System.IO.Directory.GetFiles(directory, "checkpoint-*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                found.Add(Checkpoint.Parse(File.ReadAllText(file)));
            }
            catch (FormatException e)
            {
                throw new FormatException($"{Path.GetFileName(file)}: {e.Message}", e);
            }
        }

        return [.. found.OrderBy(c => c.Id)];
    }

    public static string FileName(long id) => $"checkpoint-{id:D10}.json";

    private bool WriteOnce(string directory, Checkpoint checkpoint, string json)
    {
        var path = Path.Combine(directory, FileName(checkpoint.Id));
        try
        {
            System.IO.Directory.CreateDirectory(directory);
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            file.Write(System.Text.Encoding.UTF8.GetBytes(json));
            file.Flush(flushToDisk: true);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            if (File.ReadAllText(path) == json)
            {
                return true; // written before, by this node or another, before it could mark it
            }

            logger.LogError("Audit checkpoint {Id}: {Path} already exists with other content; it is left as it is and no later checkpoint is copied until it is looked at", checkpoint.Id, path);
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Audit checkpoint {Id} not written to {Directory}: {Reason}; retried next minute", checkpoint.Id, directory, e.Message);
            return false;
        }
    }

    private static async Task Lock(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({LockId})", connection);
        await lockCommand.ExecuteNonQueryAsync(ct);
    }

    private static async Task<List<Checkpoint>> ReadAsync(NpgsqlConnection connection, string where, CancellationToken ct)
    {
        var found = new List<Checkpoint>();
        await using var select = new NpgsqlCommand(
            $"SELECT id, sealed_at, machines, root, previous, changed, key_id, signature FROM reimage.audit_checkpoints {where}", connection);
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            found.Add(new Checkpoint(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt32(2), reader.GetFieldValue<byte[]>(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4),
                Checkpoint.ParseChangedLines(reader.GetString(5)),
                reader.GetString(6), reader.GetFieldValue<byte[]>(7)));
        }

        return found;
    }

    /// <summary>PostgreSQL keeps microseconds: the signed time must be the stored one.</summary>
    private static DateTimeOffset Micro(DateTimeOffset at) => new(at.UtcTicks - at.UtcTicks % 10, TimeSpan.Zero);
}

/// <summary>The minutely checkpoint: seal when anything changed, then copy what is not yet copied.</summary>
public sealed class AuditCheckpointJob(Checkpoints checkpoints)
{
    public const string RecurringId = "audit-checkpoint";

    [Hangfire.DisableConcurrentExecution(60)]
    [Hangfire.AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(CancellationToken ct)
    {
        await checkpoints.SealAsync(ct);
        await checkpoints.ExportAsync(ct);
    }
}

public static class AuditRegistration
{
    public static IServiceCollection AddAuditCheckpoints(this IServiceCollection services)
    {
        services.AddOptions<CheckpointOptions>().BindConfiguration(CheckpointOptions.Section)
            .Validate(o => o.CheckpointWebhook is null || o.CheckpointWebhook.Scheme == Uri.UriSchemeHttps,
                "Reimage:Audit:CheckpointWebhook must be an https:// address.")
            .ValidateOnStart();
        services.AddSingleton(sp => CheckpointKey.LoadOrCreate(CheckpointKey.PathFrom(
            sp.GetRequiredService<IOptions<CheckpointOptions>>().Value.SigningKey, sp.GetRequiredService<IConfiguration>()["Reimage:DataDirectory"])));
        services.AddHttpClient(nameof(Checkpoints), c => c.Timeout = TimeSpan.FromSeconds(20));
        services.AddSingleton<Checkpoints>();
        services.AddTransient<AuditCheckpointJob>();
        return services;
    }
}
