using System.Text;
using Npgsql;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Fleet;

/// <summary>One row of the fleet grid.</summary>
public sealed record FleetRow(
    Guid Id, string Hostname, string Site, string? Building, string? Floor, string Role, int Criticality,
    RecoveryState State, string? Step, int Attempt, DateTimeOffset StateChangedAt, string? FailureReason);

/// <summary>What the grid is filtered by; empty fields do not filter.</summary>
public sealed record FleetFilter(Guid? SiteId = null, RecoveryState? State = null, string? Text = null);

/// <summary>Server-side paging over the whole fleet, so the browser only ever holds the rows on screen.</summary>
public sealed class FleetQuery(NpgsqlDataSource db)
{
    public async Task<(IReadOnlyList<FleetRow> Rows, int Total)> PageAsync(FleetFilter filter, int skip, int take, CancellationToken ct)
    {
        var where = new StringBuilder("WHERE true");
        await using var command = db.CreateCommand();
        if (filter.SiteId is { } site)
        {
            where.Append(" AND m.site_id = @site");
            command.Parameters.AddWithValue("site", site);
        }

        if (filter.State is { } state)
        {
            where.Append(" AND r.state = @state");
            command.Parameters.AddWithValue("state", state.ToString());
        }

        if (!string.IsNullOrWhiteSpace(filter.Text))
        {
            // Host name, serial, asset tag, department or owner contain the text; or a MAC starts with it.
            where.Append(" AND (m.hostname_key LIKE @text OR lower(m.serial_number) LIKE @text OR lower(m.asset_tag) LIKE @text"
                + " OR lower(m.department) LIKE @text OR lower(m.owner) LIKE @text OR EXISTS (SELECT 1 FROM unnest(m.mac_addresses) mac WHERE mac LIKE @mac))");
            var text = filter.Text.Trim().ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
            command.Parameters.AddWithValue("text", "%" + text + "%");
            command.Parameters.AddWithValue("mac", text.ToUpperInvariant() + "%");
        }

        command.CommandText =
            $"""
            SELECT m.id, m.hostname, s.code, m.building, m.floor, m.role, m.criticality,
                   r.state, r.step, r.attempt, r.state_changed_at, r.failure_reason, count(*) OVER () AS total
            FROM reimage.machines m
            JOIN reimage.recoveries r ON r.machine_id = m.id
            JOIN reimage.sites s ON s.id = m.site_id
            {where}
            ORDER BY m.hostname_key
            OFFSET @skip LIMIT @take
            """;
        command.Parameters.AddWithValue("skip", skip);
        command.Parameters.AddWithValue("take", take);

        var rows = new List<FleetRow>();
        var total = 0;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new FleetRow(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetString(5), reader.GetInt32(6), Enum.Parse<RecoveryState>(reader.GetString(7)),
                reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetInt32(9), reader.GetFieldValue<DateTimeOffset>(10),
                reader.IsDBNull(11) ? null : reader.GetString(11)));
            total = (int)reader.GetInt64(12);
        }

        if (rows.Count == 0 && skip > 0)
        {
            total = await CountAsync(filter, ct); // paged past the end: the window total is not available
        }

        return (rows, total);
    }

    private async Task<int> CountAsync(FleetFilter filter, CancellationToken ct)
    {
        var (_, total) = await PageAsync(filter, 0, 1, ct);
        return total;
    }

    public async Task<IReadOnlyList<(Guid Id, string Code, string Name)>> SitesAsync(CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT id, code, name FROM reimage.sites ORDER BY code");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var sites = new List<(Guid, string, string)>();
        while (await reader.ReadAsync(ct))
        {
            sites.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2)));
        }

        return sites;
    }
}
