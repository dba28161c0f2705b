using Microsoft.EntityFrameworkCore;
using Npgsql;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Waves;

/// <summary>Puts machines into waves and launches them. Approval, gates and pause arrive with the workflow-engine issue.</summary>
public sealed class WavePlanner(IDbContextFactory<ReimageDbContext> contexts, NpgsqlDataSource db, TransitionWriter writer, WorkflowKick kick, TimeProvider clock)
{
    public async Task<Wave> CreateAsync(string name, int ordinal, CancellationToken ct)
    {
        await using var context = await contexts.CreateDbContextAsync(ct);
        var wave = new Wave { Id = Guid.CreateVersion7(), Name = name, Ordinal = ordinal, CreatedAt = clock.GetUtcNow() };
        context.Waves.Add(wave);
        await context.SaveChangesAsync(ct);
        return wave;
    }

    /// <summary>Plans machines that are not yet planned into <paramref name="waveId"/>; returns how many moved.</summary>
    public async Task<int> AddMachinesAsync(Guid waveId, IReadOnlyCollection<Guid> machineIds, Actor actor, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var transitions = await MovesAsync(connection, transaction, "machine_id = ANY(@ids) AND state = 'NotPlanned'", new("ids", machineIds.ToArray()),
            (machine, version, path) => new Transition(machine, version, path, RecoveryState.NotPlanned, RecoveryState.Planned, null, 0, waveId, Detail: "planned into wave"), ct);
        var won = await writer.WriteAsync(connection, transaction, transitions, actor, ct);
        await transaction.CommitAsync(ct);
        return won.Count;
    }

    /// <summary>Launches the wave: its planned machines are queued for the dispatcher, which admits them as capacity allows.</summary>
    public async Task<int> LaunchAsync(Guid waveId, Actor actor, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var launch = new NpgsqlCommand(
            "UPDATE reimage.waves SET status = 'Launched', launched_at = @now WHERE id = @id AND status IN ('Draft', 'Approved', 'Paused')",
            connection, transaction))
        {
            launch.Parameters.AddWithValue("id", waveId);
            launch.Parameters.AddWithValue("now", clock.GetUtcNow());
            if (await launch.ExecuteNonQueryAsync(ct) == 0)
            {
                throw new InvalidOperationException($"Wave {waveId} does not exist or cannot be launched from its current status.");
            }
        }

        var transitions = await MovesAsync(connection, transaction, "wave_id = @id AND state = 'Planned'", new("id", waveId),
            (machine, version, path) => new Transition(machine, version, path, RecoveryState.Planned, RecoveryState.Queued, null, 0, waveId, Detail: "wave launched"), ct);
        var won = await writer.WriteAsync(connection, transaction, transitions, actor, ct);
        await transaction.CommitAsync(ct);
        kick.Kick();
        return won.Count;
    }

    /// <summary>Reads the recoveries matching <paramref name="where"/> and turns each into the transition <paramref name="move"/> makes of it.</summary>
    private static async Task<List<Transition>> MovesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string where,
        NpgsqlParameter parameter, Func<Guid, long, RecoveryPath, Transition> move, CancellationToken ct)
    {
        await using var select = new NpgsqlCommand($"SELECT machine_id, version, path FROM reimage.recoveries WHERE {where}", connection, transaction);
        select.Parameters.Add(parameter);
        var transitions = new List<Transition>();
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            transitions.Add(move(reader.GetGuid(0), reader.GetInt64(1), Enum.Parse<RecoveryPath>(reader.GetString(2))));
        }

        return transitions;
    }
}
