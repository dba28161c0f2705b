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
                ARRAY(SELECT x FROM unnest(m.mac_addresses) x WHERE NOT x = ANY(m.shared_mac_addresses)), m.ip_address, m.bmc_address, m.serial_number
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
                reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9)));
        }

        return leased;
    }

    /// <summary>
    /// Records results. Idempotent by command id: a result for a command that already has one, was withdrawn,
    /// was never delivered, or belongs to another site changes nothing. Each result stands on its own: one whose
    /// detail cannot be stored (a NUL, an unpaired surrogate, over <see cref="CommandResult.MaxDetailLength"/>
    /// characters) is refused with its reason and never recorded, and the others are recorded.
    /// </summary>
    public async Task<ResultsReceipt> CompleteAsync(Guid siteId, IReadOnlyList<CommandResult> outcomes, CancellationToken ct)
    {
        var refused = new List<RefusedResult>();
        var valid = new List<CommandResult>(outcomes.Count);
        foreach (var outcome in outcomes)
        {
            if (WireText.Problem(outcome.Detail, CommandResult.MaxDetailLength) is { } problem)
            {
                refused.Add(new RefusedResult(outcome.CommandId, "detail " + problem));
            }
            else
            {
                valid.Add(outcome);
            }
        }

        if (valid.Count == 0)
        {
            return new ResultsReceipt(outcomes.Count, 0, refused);
        }

        await using var command = db.CreateCommand(
            """
            UPDATE reimage.agent_commands c
            SET status = 'Completed', succeeded = t.ok, detail = t.detail, completed_at = @now
            FROM unnest(@ids, @oks, @details) AS t(id, ok, detail)
            WHERE c.id = t.id AND c.site_id = @site AND c.status IN ('Pending', 'Leased') AND c.deliveries > 0
            """);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("site", siteId);
        command.Parameters.AddWithValue("ids", valid.Select(o => o.CommandId).ToArray());
        command.Parameters.AddWithValue("oks", valid.Select(o => o.Succeeded).ToArray());
        command.Parameters.Add(new NpgsqlParameter("details", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = valid.Select(o => o.Detail).ToArray() });
        return new ResultsReceipt(outcomes.Count, await command.ExecuteNonQueryAsync(ct), refused);
    }
}
