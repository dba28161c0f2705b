using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Reimage.Orchestrator.Audit;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Orchestrator.Tests.Audit;

/// <summary>
/// Signed checkpoints against the attacker the hash chains alone cannot stop: someone who can write the database,
/// edits an event, and recomputes that event's hash, every later hash and the chain head, so that the chain check
/// passes. The checkpoints they cannot sign (the key is a file outside the database) and cannot reach (the copies in a
/// directory outside it) still name the head the chain had, which is gone.
/// </summary>
public sealed class CheckpointTests(PostgresFixture postgres) : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string directory = Directory.CreateTempSubdirectory("reimage-checkpoints-").FullName;
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 12, 4, 9, 0, 0, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task Seal_OnlyWhenAHeadMoved_AndEachNamesTheOneBefore()
    {
        await using var db = await FleetAsync("A-1", "A-2", "A-3");
        using var key = Key();
        var checkpoints = Sealer(db, key);

        var first = await checkpoints.SealAsync(Ct);
        clock.Advance(TimeSpan.FromMinutes(1));
        var unchanged = await checkpoints.SealAsync(Ct);
        await ImportAsync(db, "A-2", "Legal");
        clock.Advance(TimeSpan.FromMinutes(1));
        var second = await checkpoints.SealAsync(Ct);

        Assert.NotNull(first);
        Assert.Equal((1, 3, 3), (first.Id, first.Machines, first.Changed.Count));
        Assert.Null(first.Previous);
        Assert.Null(unchanged);
        Assert.NotNull(second);
        Assert.Equal((2, 3, 1), (second.Id, second.Machines, second.Changed.Count));
        Assert.Equal(first.Hash, second.Previous);
        Assert.True(CheckpointKey.Verify(key.PublicKey, second.BodyBytes, second.Signature));
        Assert.Equal(2, await checkpoints.ExportAsync(Ct));
        Assert.Equal([Checkpoints.FileName(1), Checkpoints.FileName(2)], Directory.GetFiles(directory).Select(Path.GetFileName).Order());
        Assert.Equal(0, await checkpoints.ExportAsync(Ct));
    }

    [Fact]
    public async Task Verify_WithNoChangeSinceTheCheckpoints_IsIntact_AndLaterEventsAreFine()
    {
        await using var db = await FleetAsync("A-1", "A-2");
        using var key = Key();
        var checkpoints = Sealer(db, key);
        await checkpoints.SealAsync(Ct);
        await ImportAsync(db, "A-1", "Legal");
        await checkpoints.SealAsync(Ct);
        await checkpoints.ExportAsync(Ct);
        await ImportAsync(db, "A-1", "Sales"); // after the latest checkpoint: not sealed yet, and not a break

        var result = await CheckpointVerifier.VerifyAsync(db, Checkpoints.ReadDirectory(directory), key.PublicKey, Ct);

        Assert.True(result.Intact, string.Join("\n", result.Findings));
        Assert.Equal(2, result.Checked);
    }

    [Fact]
    public async Task Verify_ARewriteThatRecomputedEveryHash_PassesTheChainCheck_ButNotTheCheckpoints()
    {
        await using var db = await FleetAsync("A-1", "A-2", "A-3");
        await ImportAsync(db, "A-2", "Legal");
        using var key = Key();
        var checkpoints = Sealer(db, key);
        await checkpoints.SealAsync(Ct);
        await checkpoints.ExportAsync(Ct);
        var victim = await ScalarAsync<Guid>(db, "SELECT id FROM reimage.machines WHERE hostname = 'A-2'");

        // The attacker: edit the first event of A-2, recompute its whole chain and its head, and cover the tracks in the
        // database's own checkpoint tables too.
        await RewriteAsync(db, victim, "someone else");
        await Exec(db, "DELETE FROM reimage.audit_checkpoints; DELETE FROM reimage.audit_checkpoint_heads");

        var chain = await AuditVerifier.VerifyAsync(db, Ct);
        var outside = await CheckpointVerifier.VerifyAsync(db, Checkpoints.ReadDirectory(directory), key.PublicKey, Ct);
        var inside = await CheckpointVerifier.VerifyAsync(db, await Checkpoints.ReadAllAsync(db, 0, Ct), key.PublicKey, Ct);

        Assert.True(chain.Intact, "the rewrite must be a complete one, or this test proves nothing");
        Assert.True(inside.Intact); // the database alone no longer knows: that is why the copies live outside it
        var finding = Assert.Single(outside.Findings);
        Assert.Contains($"machine {victim}: its chain was rewritten or cut since checkpoint 1", finding, StringComparison.Ordinal);
        Assert.Contains(CheckpointVerifier.CompareWithDatabase(Checkpoints.ReadDirectory(directory), []), f => f.Contains("missing from the database", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Verify_AnEditedOrMissingOrForeignCheckpoint_IsNamed()
    {
        await using var db = await FleetAsync("A-1", "A-2");
        using var key = Key();
        var checkpoints = Sealer(db, key);
        foreach (var department in new[] { "Legal", "Sales", "Audit" })
        {
            await checkpoints.SealAsync(Ct);
            await ImportAsync(db, "A-1", department);
        }

        await checkpoints.ExportAsync(Ct);
        var files = Checkpoints.ReadDirectory(directory);
        Assert.Equal(3, files.Count);

        // An edited root (re-signing is impossible without the key).
        var edited = await CheckpointVerifier.VerifyAsync(db, [files[0], files[1] with { Machines = 5 }, files[2]], key.PublicKey, Ct);
        // A checkpoint removed from the copies.
        var gap = await CheckpointVerifier.VerifyAsync(db, [files[0], files[2]], key.PublicKey, Ct);
        // A checkpoint that another installation signed, and the right ones held against the wrong key.
        using var other = CheckpointKey.LoadOrCreate(Path.Combine(directory, "other.key"));
        var forged = files[1] with { KeyId = other.Id, Signature = other.Sign((files[1] with { KeyId = other.Id }).BodyBytes) };
        var foreign = await CheckpointVerifier.VerifyAsync(db, [files[0], forged, files[2]], key.PublicKey, Ct);

        Assert.Contains(edited.Findings, f => f.StartsWith("checkpoint 2: the signature does not match its content", StringComparison.Ordinal));
        Assert.Contains(gap.Findings, f => f.Contains("checkpoint(s) 2–2 are missing", StringComparison.Ordinal));
        Assert.Contains(foreign.Findings, f => f.StartsWith($"checkpoint 2: signed by key {other.Id}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Export_NeverOverwritesAFile_AndRetriesAWebhookThatWasDown()
    {
        await using var db = await FleetAsync("A-1");
        using var key = Key();
        // The webhook stands for a log collector that is down at first (503), then accepts.
        using var listener = new HttpListener();
        var port = TestNetwork.FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = new List<string>();
        var up = false;
        var serving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using (var reader = new StreamReader(context.Request.InputStream))
                {
                    var body = await reader.ReadToEndAsync();
                    if (up)
                    {
                        lock (received)
                        {
                            received.Add(body);
                        }
                    }
                }

                context.Response.StatusCode = up ? 204 : 503;
                context.Response.Close();
            }
        }, Ct);
        var checkpoints = Sealer(db, key, new Uri($"http://127.0.0.1:{port}/checkpoints"));
        await checkpoints.SealAsync(Ct);

        Assert.Equal(0, await checkpoints.ExportAsync(Ct)); // webhook down: not marked copied
        up = true;
        Assert.Equal(1, await checkpoints.ExportAsync(Ct));
        Assert.Equal(1, Checkpoint.Parse(Assert.Single(received)).Id);

        // A file already there with other content (someone wrote into the append-only place) is left alone.
        await ImportAsync(db, "A-1", "Legal");
        await checkpoints.SealAsync(Ct);
        await File.WriteAllTextAsync(Path.Combine(directory, Checkpoints.FileName(2)), "not ours", Ct);
        Assert.Equal(0, await checkpoints.ExportAsync(Ct));
        Assert.Equal("not ours", await File.ReadAllTextAsync(Path.Combine(directory, Checkpoints.FileName(2)), Ct));
        listener.Stop();
        await serving;
    }

    [Fact]
    public void MerkleProof_ProvesEveryLeaf_OfTreesOfEverySize_AndNothingElse()
    {
        for (var size = 1; size <= 13; size++)
        {
            var leaves = MerkleTree.Order(Enumerable.Range(0, size).Select(i => new ChainHead(Guid.NewGuid(), [(byte)i, 7])));
            var root = MerkleTree.Root(leaves);
            for (var i = 0; i < size; i++)
            {
                var proof = MerkleTree.Proof(leaves, i);
                Assert.True(MerkleTree.Verify(leaves[i], i, size, proof, root), $"leaf {i} of {size}");
                Assert.False(MerkleTree.Verify(leaves[i] with { Head = [9, 9] }, i, size, proof, root), $"changed leaf {i} of {size}");
                if (size > 1)
                {
                    Assert.False(MerkleTree.Verify(leaves[i], (i + 1) % size, size, proof, root), $"leaf {i} of {size} at another index");
                }
            }
        }
    }

    [Fact]
    public void Key_IsCreatedOwnerOnly_AndReloadsAsTheSameKey()
    {
        var path = Path.Combine(directory, "keys", "checkpoint-signing.key");
        string created;
        using (var key = CheckpointKey.LoadOrCreate(path))
        {
            created = key.PublicKeyHex;
        }

        using var reloaded = CheckpointKey.LoadOrCreate(path);
        Assert.Equal(created, reloaded.PublicKeyHex);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        // The fingerprint as people copy it (colons, upper case) is accepted.
        var colons = string.Join(':', Enumerable.Range(0, 32).Select(i => created.Substring(i * 2, 2).ToUpperInvariant()));
        Assert.Equal(reloaded.PublicKey, CheckpointKey.ReadPublicKey(colons));
        Assert.Throws<FormatException>(() => CheckpointKey.ReadPublicKey("abc"));
    }

    private CheckpointKey Key() => CheckpointKey.LoadOrCreate(Path.Combine(directory, "keys", "signing.key"));

    private Checkpoints Sealer(NpgsqlDataSource db, CheckpointKey key, Uri? webhook = null) =>
        new(db, key, Options.Create(new CheckpointOptions { CheckpointDirectory = directory, CheckpointWebhook = webhook }),
            new ConfigurationBuilder().Build(), clock, new Http(), NullLogger<Checkpoints>.Instance);

    /// <summary>Recomputes the chain of <paramref name="machine"/> with its first event's actor changed, and its head.</summary>
    private static async Task RewriteAsync(NpgsqlDataSource db, Guid machine, string actor)
    {
        var rows = new List<(long Id, DateTime At, string Zone, string Actor, string Origin, string Kind, string? From, string? To, string? Step, string? Detail)>();
        await using (var select = db.CreateCommand(
            $"SELECT id, occurred_at, time_zone, actor, origin, kind, from_state, to_state, step, detail FROM reimage.machine_events WHERE machine_id = '{machine}' ORDER BY id"))
        await using (var reader = await select.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                rows.Add((reader.GetInt64(0), reader.GetFieldValue<DateTime>(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                    Text(6), Text(7), Text(8), Text(9)));
            }
        }

        byte[]? prev = null;
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i] with { Actor = i == 0 ? actor : rows[i].Actor };
            var hash = AuditChain.Hash(prev, machine, r.At, r.Zone, r.Actor, r.Origin, r.Kind, r.From, r.To, r.Step, r.Detail);
            await using var update = db.CreateCommand("UPDATE reimage.machine_events SET actor = @actor, prev_hash = @prev, hash = @hash WHERE id = @id");
            update.Parameters.AddWithValue("actor", r.Actor);
            update.Parameters.Add(new NpgsqlParameter("prev", NpgsqlTypes.NpgsqlDbType.Bytea) { Value = (object?)prev ?? DBNull.Value });
            update.Parameters.AddWithValue("hash", hash);
            update.Parameters.AddWithValue("id", r.Id);
            await update.ExecuteNonQueryAsync(Ct);
            prev = hash;
        }

        await using var head = db.CreateCommand("UPDATE reimage.recoveries SET chain_head = @head WHERE machine_id = @m");
        head.Parameters.AddWithValue("head", prev!);
        head.Parameters.AddWithValue("m", machine);
        await head.ExecuteNonQueryAsync(Ct);
    }

    private async Task<NpgsqlDataSource> FleetAsync(params string[] hosts)
    {
        var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var file = "hostname,site,department\n" + string.Concat(hosts.Select(h => $"{h},HQ,Finance\n"));
        Assert.True((await new FleetImporter(db, clock).ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(file)), new ImportOptions(CreateSites: true), new Actor("lead", "test"), Ct)).Imported);
        return db;
    }

    private async Task ImportAsync(NpgsqlDataSource db, string host, string department)
    {
        clock.Advance(TimeSpan.FromSeconds(1));
        var file = $"hostname,site,department\n{host},HQ,{department}\n";
        Assert.True((await new FleetImporter(db, clock).ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(file)), new ImportOptions(), new Actor("lead", "test"), Ct)).Imported);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync(Ct))!;
    }

    private static async Task Exec(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(Ct);
    }


    private sealed class Http : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new() { Timeout = TimeSpan.FromSeconds(30) };
    }
}
