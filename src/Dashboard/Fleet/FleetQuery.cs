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
/// <remarks>
/// The page and the total are two queries: a window count over the page query would make every page materialise and
/// sort every matching row (140 ms at 100,000 machines), where the page alone walks the host-name index and stops. The
/// total of a filter is kept for a couple of seconds, because a scrolling grid asks for many pages of the same filter.
/// </remarks>
public sealed class FleetQuery(NpgsqlDataSource db, TimeProvider clock)
{
    private static readonly TimeSpan TotalFor = TimeSpan.FromSeconds(2);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<FleetFilter, (int Total, long At)> _totals = new();

    public async Task<(IReadOnlyList<FleetRow> Rows, int Total)> PageAsync(FleetFilter filter, int skip, int take, CancellationToken ct)
    {
        var rowsTask = RowsAsync(filter, skip, take, ct);
        var total = await TotalAsync(filter, ct);
        return (await rowsTask, total);
    }

    private async Task<int> TotalAsync(FleetFilter filter, CancellationToken ct)
    {
        if (_totals.TryGetValue(filter, out var known) && clock.GetElapsedTime(known.At) < TotalFor)
        {
            return known.Total;
        }

        await using var command = db.CreateCommand();
        var where = Where(filter, command);
        command.CommandText = $"SELECT count(*) FROM reimage.machines m {(filter.State is null ? "" : "JOIN reimage.recoveries r ON r.machine_id = m.id")} {where}";
        var total = (int)(long)(await command.ExecuteScalarAsync(ct))!;
        if (_totals.Count > 256)
        {
            _totals.Clear(); // every typed search is a filter of its own: keep the cache from growing with them
        }

        _totals[filter] = (total, clock.GetTimestamp());
        return total;
    }

    private async Task<IReadOnlyList<FleetRow>> RowsAsync(FleetFilter filter, int skip, int take, CancellationToken ct)
    {
        await using var command = db.CreateCommand();
        var where = Where(filter, command);
        // The page's ids first, walking the host-name index (joined to recoveries only when the state filters), then
        // their columns: sorting the whole fleet for one page is what a deep scroll must not do.
        command.CommandText =
            $"""
            WITH page AS (
                SELECT m.id, m.hostname_key FROM reimage.machines m
                {(filter.State is null ? "" : "JOIN reimage.recoveries r ON r.machine_id = m.id")}
                {where}
                ORDER BY m.hostname_key
                OFFSET @skip LIMIT @take)
            SELECT m.id, m.hostname, s.code, m.building, m.floor, m.role, m.criticality,
                   r.state, r.step, r.attempt, r.state_changed_at, r.failure_reason
            FROM page
            JOIN reimage.machines m ON m.id = page.id
            JOIN reimage.recoveries r ON r.machine_id = m.id
            JOIN reimage.sites s ON s.id = m.site_id
            ORDER BY page.hostname_key
            """;
        command.Parameters.AddWithValue("skip", skip);
        command.Parameters.AddWithValue("take", take);

        var rows = new List<FleetRow>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new FleetRow(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetString(5), reader.GetInt32(6), Enum.Parse<RecoveryState>(reader.GetString(7)),
                reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetInt32(9), reader.GetFieldValue<DateTimeOffset>(10),
                reader.IsDBNull(11) ? null : reader.GetString(11)));
        }

        return rows;
    }

    private static string Where(FleetFilter filter, NpgsqlCommand command)
    {
        var where = new StringBuilder("WHERE true");
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
            // Host name, serial, asset tag, department, owner or a MAC contains the text.
            where.Append(" AND (m.hostname_key LIKE @text OR lower(m.serial_number) LIKE @text OR lower(m.asset_tag) LIKE @text"
                + " OR lower(m.department) LIKE @text OR lower(m.owner) LIKE @text OR array_to_string(m.mac_addresses, ' ') LIKE @mac)");
            var text = filter.Text.Trim().ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
            command.Parameters.AddWithValue("text", "%" + text + "%");
            command.Parameters.AddWithValue("mac", "%" + text.ToUpperInvariant() + "%");
        }

        return where.ToString();
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
