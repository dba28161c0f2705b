using Microsoft.Extensions.Options;
using Npgsql;
using Reimage.Dashboard.Agents;
using Reimage.Dashboard.Forecast;
using Reimage.Orchestrator.Infrastructure;

namespace Reimage.Dashboard.Executive;

/// <summary>Restored machines out of those in scope (everything but skipped and decommissioned) in one group.</summary>
public sealed record Progress(string Name, long Restored, long InScope)
{
    public double Percent => InScope == 0 ? 0 : 100.0 * Restored / InScope;
}

/// <summary>Machines restored in one period (an hour or a day), and how many were still to do at its end.</summary>
public sealed record Burn(DateTimeOffset Period, long Restored, long Remaining);

/// <summary>What stands in the way, counted.</summary>
public sealed record Blockers(long AwaitingParts, long Failed, long Quarantined, int OfflineAgents, int OpenAlerts)
{
    public long Total => AwaitingParts + Failed + Quarantined + OfflineAgents + OpenAlerts;
}

/// <summary>When the work will be done: from the forecast when one has been made, else extrapolated from throughput.</summary>
public sealed record Completion(DateTimeOffset? P50, DateTimeOffset? P90, string Basis);

public sealed record ExecutiveSummary(
    Progress Overall, IReadOnlyList<Progress> Sites, IReadOnlyList<Progress> Departments, IReadOnlyList<Progress> Waves,
    IReadOnlyList<Burn> BurnDown, bool Hourly, Blockers Blockers, Completion Completion, DateTimeOffset ReadAt);

/// <summary>
/// The executive view in a handful of grouped reads over <c>recoveries</c> (no per-event scan: a restored machine's
/// <c>state_changed_at</c> is when it was restored, since Restored is final). One summary serves every open page and
/// API call until the database changes (<see cref="Live.LiveUpdates.Generation"/>) or 30 s pass (offline agents and the
/// throughput guess age with time), so twenty executives watching cost one read per change, not twenty.
/// </summary>
public sealed class ExecutiveQuery(NpgsqlDataSource db, ForecastService forecasts, TimeProvider clock, IOptions<AgentOptions> agents, Live.LiveUpdates live)
    : IDisposable
{
    private const string InScope = "r.state NOT IN ('Skipped', 'Decommissioned')";
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _reading = new(1, 1);
    private (ExecutiveSummary Summary, long Generation)? _last;

    /// <summary>The tables the summary reads.</summary>
    public static readonly string[] Tables = ["recoveries", "machines", "waves", "alerts", "agents"];

    public async Task<ExecutiveSummary> ReadAsync(CancellationToken ct)
    {
        await _reading.WaitAsync(ct);
        try
        {
            var generation = live.Generation; // taken before the read: a change during it makes the next call read again
            if (_last is { } last && last.Generation == generation && clock.GetUtcNow() - last.Summary.ReadAt < MaxAge)
            {
                return last.Summary;
            }

            var summary = await ReadFreshAsync(ct);
            _last = (summary, generation);
            return summary;
        }
        finally
        {
            _reading.Release();
        }
    }

    private async Task<ExecutiveSummary> ReadFreshAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(ct);
        var sites = await GroupAsync(connection, "s.code", "JOIN reimage.sites s ON s.id = m.site_id", ct);
        var departments = await GroupAsync(connection, "coalesce(m.department, '(no department)')", "", ct);
        var waves = await GroupAsync(connection, "coalesce(w.name, '(in no wave)')", "LEFT JOIN reimage.waves w ON w.id = r.wave_id", ct);
        var overall = new Progress("Fleet", sites.Sum(s => s.Restored), sites.Sum(s => s.InScope));

        var span = await Rows.ReadAsync(connection,
            "SELECT min(state_changed_at), max(state_changed_at) FROM reimage.recoveries WHERE state = 'Restored'",
            r => r.IsDBNull(0) ? ((DateTimeOffset, DateTimeOffset)?)null : (r.GetFieldValue<DateTimeOffset>(0), r.GetFieldValue<DateTimeOffset>(1)), ct);
        var hourly = span[0] is not { } s0 || s0.Item2 - s0.Item1 < TimeSpan.FromDays(3);
        var unit = hourly ? "hour" : "day";
        var restoredPer = await Rows.ReadAsync(connection,
            $"SELECT date_trunc('{unit}', state_changed_at AT TIME ZONE 'UTC'), count(*) FROM reimage.recoveries WHERE state = 'Restored' GROUP BY 1 ORDER BY 1",
            r => (Period: new DateTimeOffset(DateTime.SpecifyKind(r.GetDateTime(0), DateTimeKind.Utc)), Count: r.GetInt64(1)), ct);
        // Every period from the one before the first restore to now, gaps as zero, so the line starts at the full scope.
        var step = hourly ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
        var byPeriod = restoredPer.ToDictionary(p => p.Period, p => p.Count);
        var burn = new List<Burn>();
        var remaining = overall.InScope;
        if (restoredPer.Count > 0)
        {
            var last = Truncate(now, hourly);
            for (var period = restoredPer[0].Period - step; period <= last && burn.Count < 24 * 120; period += step)
            {
                var count = byPeriod.GetValueOrDefault(period);
                remaining -= count;
                burn.Add(new Burn(period, count, remaining));
            }
        }

        var states = await Rows.ReadAsync(connection,
            "SELECT state, count(*) FROM reimage.recoveries WHERE state IN ('AwaitingParts', 'Failed', 'Quarantined') GROUP BY state",
            r => (State: r.GetString(0), Count: r.GetInt64(1)), ct);
        var offline = await Rows.ReadAsync(connection,
            "SELECT count(*) FROM reimage.agents WHERE revoked_at IS NULL AND (last_seen_at IS NULL OR last_seen_at < @since)",
            r => r.GetInt64(0), ct, ("since", now - agents.Value.OfflineAfter));
        var alerts = await Rows.ReadAsync(connection, "SELECT count(*) FROM reimage.alerts WHERE resolved_at IS NULL", r => r.GetInt64(0), ct);
        long Count(string state) => states.FirstOrDefault(s => s.State == state).Count;
        var blockers = new Blockers(Count("AwaitingParts"), Count("Failed"), Count("Quarantined"), (int)offline[0], (int)alerts[0]);

        return new ExecutiveSummary(overall, sites, departments, waves, burn, hourly, blockers, Expected(overall, restoredPer, now), now);
    }

    private Completion Expected(Progress overall, List<(DateTimeOffset Period, long Count)> restoredPer, DateTimeOffset now)
    {
        if (forecasts.Last is { FleetP50: not null } f)
        {
            return new Completion(f.FleetP50, f.FleetP90, $"forecast of {f.MadeAt:yyyy-MM-dd HH:mm} UTC ({f.Runs} simulated runs)");
        }

        var left = overall.InScope - overall.Restored;
        if (left == 0)
        {
            return new Completion(now, now, "all machines in scope are restored");
        }

        // No forecast yet: the last 24 hours' rate (or since the first restore), labelled as the rough guess it is.
        var since = now - TimeSpan.FromHours(24);
        var recent = restoredPer.Where(p => p.Period >= since).Sum(p => p.Count);
        var from = restoredPer.Count == 0 ? now : restoredPer.Min(p => p.Period);
        var hours = Math.Max((now - (from > since ? from : since)).TotalHours, 1);
        if (recent == 0)
        {
            return new Completion(null, null, "no forecast yet, and nothing restored in the last 24 hours to extrapolate from");
        }

        var at = now + TimeSpan.FromHours(left / (recent / hours));
        return new Completion(at, null, $"extrapolated from throughput ({recent / hours:0.#} machines/hour over the last {hours:0} h), not a forecast");
    }

    private static DateTimeOffset Truncate(DateTimeOffset at, bool hourly) =>
        new(at.Year, at.Month, at.Day, hourly ? at.Hour : 0, 0, 0, TimeSpan.Zero);

    private static Task<List<Progress>> GroupAsync(NpgsqlConnection connection, string key, string join, CancellationToken ct) =>
        Rows.ReadAsync(connection,
            $"""
            SELECT {key}, count(*) FILTER (WHERE r.state = 'Restored'), count(*) FILTER (WHERE {InScope})
            FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id {join}
            GROUP BY 1 ORDER BY 1
            """,
            r => new Progress(r.GetString(0), r.GetInt64(1), r.GetInt64(2)), ct);

    public void Dispose() => _reading.Dispose();
}
