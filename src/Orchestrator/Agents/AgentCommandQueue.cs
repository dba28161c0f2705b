using Npgsql;
using NpgsqlTypes;
using Reimage.Agents.Protocol;

namespace Reimage.Orchestrator.Agents;

/// <summary>
/// The agents' side of the command table: leases for one site's commands, and results recorded once.
/// Applying results to recoveries is the workflow pump's job, not this one's.
/// </summary>
public sealed class AgentCommandQueue(NpgsqlDataSource db, TimeProvider clock)
{
    /// <summary>
    /// Claims up to <paramref name="max"/> due commands of <paramref name="siteId"/> for <paramref name="lease"/>:
    /// pending ones, and leased ones whose lease has expired (their agent went quiet). Concurrent agents
    /// never receive the same command (<c>FOR UPDATE SKIP LOCKED</c>). Returned as the agents' wire type, ready to send.
    /// </summary>
    public async Task<IReadOnlyList<LeasedCommand>> LeaseAsync(Guid siteId, string agentId, int max, TimeSpan lease, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var command = db.CreateCommand(
            """
            WITH next AS (
                SELECT id FROM reimage.agent_commands
                WHERE site_id = @site AND not_before <= @now
                  AND (status = 'Pending' OR (status = 'Leased' AND lease_expires_at < @now))
                ORDER BY not_before
                LIMIT @max
                FOR UPDATE SKIP LOCKED)
            UPDATE reimage.agent_commands c
            SET status = 'Leased', leased_by = @agent, lease_expires_at = @until, deliveries = c.deliveries + 1
            FROM next, reimage.machines m
            WHERE c.id = next.id AND m.id = c.machine_id
            RETURNING c.id, c.machine_id, c.kind, c.step, c.attempt, m.hostname,
                ARRAY(SELECT x FROM unnest(m.mac_addresses) x WHERE NOT x = ANY(m.shared_mac_addresses)), m.ip_address, m.bmc_address
            """);
        command.Parameters.AddWithValue("site", siteId);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("until", now + lease);
        command.Parameters.AddWithValue("agent", agentId);
        command.Parameters.AddWithValue("max", max);
        var leased = new List<LeasedCommand>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            leased.Add(new LeasedCommand(
                reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
                reader.GetString(5), reader.GetFieldValue<string[]>(6),
                reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8)));
        }

        return leased;
    }

    /// <summary>
    /// Records results. Idempotent by command id: a result for a command that already has one, was withdrawn,
    /// was never delivered, or belongs to another site changes nothing. Returns how many were newly recorded.
    /// </summary>
    public async Task<int> CompleteAsync(Guid siteId, IReadOnlyList<CommandResult> outcomes, CancellationToken ct)
    {
        if (outcomes.Count == 0)
        {
            return 0;
        }

        await using var command = db.CreateCommand(
            """
            UPDATE reimage.agent_commands c
            SET status = 'Completed', succeeded = t.ok, detail = left(t.detail, 2000), completed_at = @now
            FROM unnest(@ids, @oks, @details) AS t(id, ok, detail)
            WHERE c.id = t.id AND c.site_id = @site AND c.status IN ('Pending', 'Leased') AND c.deliveries > 0
            """);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("site", siteId);
        command.Parameters.AddWithValue("ids", outcomes.Select(o => o.CommandId).ToArray());
        command.Parameters.AddWithValue("oks", outcomes.Select(o => o.Succeeded).ToArray());
        command.Parameters.Add(new NpgsqlParameter("details", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = outcomes.Select(o => o.Detail).ToArray() });
        return await command.ExecuteNonQueryAsync(ct);
    }
}
