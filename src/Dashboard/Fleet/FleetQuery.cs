using System.Text;
using Npgsql;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Fleet;

/// <summary>One row of the fleet grid.</summary>
public sealed record FleetRow(
    Guid Id, string Hostname, string Site, string? Building, string? Floor, string Role, int Criticality,
    RecoveryState State, string? Step, int Attempt, DateTimeOffset StateChangedAt, string? FailureReason);

/// <summary>
/// What the grid is filtered by; empty fields do not filter. <see cref="StuckMinutes"/>: machines in Imaging whose task
/// sequence has reported nothing for that long (nothing since the step started, or since its last report).
/// </summary>
public sealed record FleetFilter(Guid? SiteId = null, RecoveryState? State = null, string? Text = null, int? StuckMinutes = null);

/// <summary>The grid's sortable columns. Ties are broken by host name (or machine id), so paging is stable.</summary>
public enum FleetColumn
{
    Host,
    Site,
    State,
    Since,
}

public sealed record FleetSort(FleetColumn Column = FleetColumn.Host, bool Descending = false);

/// <summary>Server-side paging over the whole fleet, so the browser only ever holds the rows on screen.</summary>
/// <remarks>
/// The page and the total are two queries: a window count over the page query would make every page materialise and
/// sort every matching row (140 ms at 100,000 machines), where the page alone walks an index in the sort order and
/// stops (host names: the host-name index; state and "since": indexes on recoveries, reached without machines unless
/// a site or text filters). Sorting by site sorts the matching rows. The total of a filter is kept for a couple of
/// seconds, because a scrolling grid asks for many pages of the same filter. Text search goes through the trigram
/// index of migration FleetSearch (host name, serial, asset tag) and the MAC index.
/// </remarks>
public sealed class FleetQuery(NpgsqlDataSource db, TimeProvider clock)
{
    /// <summary>A search's total is exact up to this; beyond, it is <c>SearchCountLimit + 1</c>, shown as "more than".</summary>
    public const int SearchCountLimit = 1000;

    private static readonly TimeSpan TotalFor = TimeSpan.FromSeconds(2);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<FleetFilter, (int Total, long At)> _totals = new();

    public Task<(IReadOnlyList<FleetRow> Rows, int Total)> PageAsync(FleetFilter filter, int skip, int take, CancellationToken ct) =>
        PageAsync(filter, new FleetSort(), skip, take, ct);

    public async Task<(IReadOnlyList<FleetRow> Rows, int Total)> PageAsync(FleetFilter filter, FleetSort sort, int skip, int take, CancellationToken ct)
    {
        var rowsTask = RowsAsync(filter, sort, skip, take, ct);
        var total = await TotalAsync(filter, ct);
        return (await rowsTask, total);
    }

    /// <summary>Every machine matching <paramref name="filter"/> (for bulk actions on "all matching"), at most <paramref name="limit"/>.</summary>
    public async Task<Guid[]> IdsAsync(FleetFilter filter, int limit, CancellationToken ct)
    {
        await using var command = db.CreateCommand();
        var (from, id) = From(filter, new FleetSort());
        command.CommandText = $"SELECT {id} FROM {from} {Where(filter, command, clock.GetUtcNow())} ORDER BY {id} LIMIT @limit";
        command.Parameters.AddWithValue("limit", limit);
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetGuid(0));
        }

        return [.. ids];
    }

    private async Task<int> TotalAsync(FleetFilter filter, CancellationToken ct)
    {
        if (_totals.TryGetValue(filter, out var known) && clock.GetElapsedTime(known.At) < TotalFor)
        {
            return known.Total;
        }

        await using var command = db.CreateCommand();
        var (from, _) = From(filter, new FleetSort());
        var where = Where(filter, command, clock.GetUtcNow());
        // A search counts no further than it must: "07" matches a sixth of the fleet, and counting all of them costs
        // more than the page (a text of one or two characters cannot use the trigram index at all).
        command.CommandText = string.IsNullOrWhiteSpace(filter.Text)
            ? $"SELECT count(*) FROM {from} {where}"
            : $"SELECT count(*) FROM (SELECT FROM {from} {where} LIMIT {SearchCountLimit + 1}) AS matching";
        var total = (int)(long)(await command.ExecuteScalarAsync(ct))!;
        if (_totals.Count > 256)
        {
            _totals.Clear(); // every typed search is a filter of its own: keep the cache from growing with them
        }

        _totals[filter] = (total, clock.GetTimestamp());
        return total;
    }

    private async Task<IReadOnlyList<FleetRow>> RowsAsync(FleetFilter filter, FleetSort sort, int skip, int take, CancellationToken ct)
    {
        await using var command = db.CreateCommand();
        var (from, id) = From(filter, sort);
        var order = OrderBy(sort);
        // The page's keys first, walking an index in the sort order, then their columns: sorting the whole fleet for
        // one page is what a deep scroll must not do. Sorted by host name, the key is the host name itself, so an
        // unfiltered page to any depth is an index-only walk of the host-name index.
        var (key, join) = sort.Column == FleetColumn.Host ? ("m.hostname_key", "m.hostname_key = page.key") : (id, "m.id = page.key");
        command.CommandText =
            $"""
            WITH page AS (
                SELECT {key} AS key FROM {from}
                {Where(filter, command, clock.GetUtcNow())}
                ORDER BY {order}
                OFFSET @skip LIMIT @take)
            SELECT m.id, m.hostname, s.code, m.building, m.floor, m.role, m.criticality,
                   r.state, r.step, r.attempt, r.state_changed_at, r.failure_reason
            FROM page
            JOIN reimage.machines m ON {join}
            JOIN reimage.recoveries r ON r.machine_id = m.id
            JOIN reimage.sites s ON s.id = m.site_id
            ORDER BY {order}
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

    /// <summary>Only the tables the filter and the sort need: state and "since" sorts walk recoveries alone when nothing filters machines.</summary>
    internal static (string From, string Id) From(FleetFilter filter, FleetSort sort)
    {
        var recoveries = filter.State is not null || filter.StuckMinutes is not null || sort.Column is FleetColumn.State or FleetColumn.Since;
        var machines = filter.SiteId is not null || !string.IsNullOrWhiteSpace(filter.Text) || sort.Column is FleetColumn.Host or FleetColumn.Site;
        if (!machines)
        {
            return ("reimage.recoveries r", "r.machine_id");
        }

        return ("reimage.machines m"
            + (recoveries ? " JOIN reimage.recoveries r ON r.machine_id = m.id" : "")
            + (sort.Column == FleetColumn.Site ? " JOIN reimage.sites s ON s.id = m.site_id" : ""), "m.id");
    }

    private static string OrderBy(FleetSort sort)
    {
        var dir = sort.Descending ? " DESC" : "";
        return sort.Column switch
        {
            FleetColumn.Site => $"s.code{dir}, m.hostname_key{dir}",
            FleetColumn.State => $"r.state{dir}, r.state_changed_at{dir}, r.machine_id{dir}",
            FleetColumn.Since => $"r.state_changed_at{dir}, r.machine_id{dir}",
            _ => $"m.hostname_key{dir}",
        };
    }

    /// <summary>What text search compares: exactly the expression of the trigram index in migration FleetSearch.</summary>
    internal const string SearchText = "lower(m.hostname || ' ' || coalesce(m.serial_number, '') || ' ' || coalesce(m.asset_tag, ''))";

    internal static string Where(FleetFilter filter, NpgsqlCommand command, DateTimeOffset? now = null)
    {
        var where = new StringBuilder("WHERE true");
        if (filter.StuckMinutes is { } minutes)
        {
            where.Append(
                """
                 AND r.state = 'InProgress' AND r.step = 'Imaging' AND coalesce((SELECT ir.reported_at FROM reimage.imaging_reports ir
                     WHERE ir.machine_id = r.machine_id AND ir.step_started_at = r.step_started_at), r.step_started_at) < @stuck_before
                """);
            command.Parameters.AddWithValue("stuck_before", (now ?? DateTimeOffset.UtcNow) - TimeSpan.FromMinutes(minutes));
        }

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
            // Host name, serial or asset tag contains the text (through the trigram index), or a MAC is the text.
            var text = filter.Text.Trim();
            where.Append($" AND ({SearchText} LIKE @text");
            if (MacAddresses.TryNormalise(text, out var mac))
            {
                where.Append(" OR m.mac_addresses @> ARRAY[@mac]");
                command.Parameters.AddWithValue("mac", mac);
            }

            where.Append(')');
            var escaped = text.ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
            command.Parameters.AddWithValue("text", "%" + escaped + "%");
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
