using Reimage.Orchestrator.Infrastructure;
using Npgsql;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// Builds the forecast's plan from the live tables: sites with their rosters, slots, stock and expected deliveries;
/// waves (not cancelled or completed) with their gates; every machine in a wave that is not finished, where it stands
/// now; and step durations starting from <see cref="StepDurations.Typical"/>, replaced per site and step by what the
/// audit trail shows the steps really took once there are enough of them (<see cref="ObservedDurations"/>).
/// </summary>
public static class LivePlan
{
    public static async Task<ForecastPlan> ReadAsync(NpgsqlDataSource db, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var shifts = (await Rows.ReadAsync(connection, "SELECT technician_id, days, starts, ends FROM reimage.shifts",
            r => (Technician: r.GetGuid(0), Shift: new ForecastShift((ShiftDays)r.GetInt32(1), r.GetFieldValue<TimeOnly>(2), r.GetFieldValue<TimeOnly>(3))), ct))
            .ToLookup(s => s.Technician, s => s.Shift);
        var technicians = (await Rows.ReadAsync(connection, "SELECT id, site_id, name, building FROM reimage.technicians WHERE active",
            r => (Site: r.GetGuid(1), Technician: new ForecastTechnician(r.GetGuid(0), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), [.. shifts[r.GetGuid(0)]])), ct))
            .ToLookup(t => t.Site, t => t.Technician);
        var stock = (await Rows.ReadAsync(connection, "SELECT site_id, item, on_hand FROM reimage.spare_stock",
            r => (Site: r.GetGuid(0), Item: r.GetString(1), OnHand: r.GetInt32(2)), ct)).ToLookup(s => s.Site);
        var deliveries = (await Rows.ReadAsync(connection,
            "SELECT site_id, item, quantity, coalesce(expected_at, @now) FROM reimage.deliveries WHERE received_at IS NULL",
            r => (Site: r.GetGuid(0), Delivery: new ForecastDelivery(r.GetString(1), r.GetInt32(2), Max(r.GetFieldValue<DateTimeOffset>(3), now))), ct, ("now", now)))
            .ToLookup(d => d.Site, d => d.Delivery);
        var sites = await Rows.ReadAsync(connection, "SELECT id, code, time_zone, imaging_slots, hands_on_per_technician, images_from_usb FROM reimage.sites",
            r => new ForecastSite(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.GetInt32(4), [.. technicians[r.GetGuid(0)]],
                stock[r.GetGuid(0)].Where(s => s.Item != SpareStock.UsbMedia).ToDictionary(s => s.Item, s => s.OnHand),
                [.. deliveries[r.GetGuid(0)]], r.GetBoolean(5), stock[r.GetGuid(0)].Where(s => s.Item == SpareStock.UsbMedia).Sum(s => s.OnHand)), ct);
        var gates = (await Rows.ReadAsync(connection, "SELECT wave_id, depends_on_wave_id, restored_percent FROM reimage.wave_gates",
            r => (Wave: r.GetGuid(0), Gate: new ForecastGate(r.GetGuid(1), r.GetInt32(2))), ct)).ToLookup(g => g.Wave, g => g.Gate);
        var waves = await Rows.ReadAsync(connection, "SELECT id, name, ordinal, status FROM reimage.waves WHERE status NOT IN ('Cancelled', 'Completed')",
            r => new ForecastWave(r.GetGuid(0), r.GetString(1), r.GetInt32(2), [.. gates[r.GetGuid(0)]], Enum.Parse<WaveStatus>(r.GetString(3))), ct);
        var machines = await Rows.ReadAsync(connection,
            $"""
            SELECT m.id, m.hostname, m.site_id, r.wave_id, r.path, m.criticality, m.building, m.floor, m.room, m.disk_type,
                   {RecoveryPaths.CanBootRemotelySql}, r.state, r.step, r.attempt
            FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id
            JOIN reimage.waves w ON w.id = r.wave_id AND w.status NOT IN ('Cancelled', 'Completed')
            WHERE r.state IN ('Planned', 'Queued', 'AwaitingParts', 'InProgress', 'Restored')
            """,
            r => new ForecastMachine(r.GetGuid(0), r.GetString(1), r.GetGuid(2), r.GetGuid(3), Enum.Parse<RecoveryPath>(r.GetString(4)), r.GetInt32(5),
                Text(r, 6), Text(r, 7), Text(r, 8), Text(r, 9), r.GetBoolean(10))
            {
                State = Enum.Parse<RecoveryState>(r.GetString(11)),
                Step = r.IsDBNull(12) ? null : Enum.Parse<Step>(r.GetString(12)),
                Attempt = Math.Max(1, r.GetInt32(13)),
            }, ct);
        return new ForecastPlan(now, sites, waves, machines, ObservedDurations.Fit(StepDurations.Typical, await ObservedAsync(connection, ct)));
    }

    /// <summary>
    /// How long each step took: from the event that started it to the machine's next transition, for steps that ended
    /// by moving on (not those still running).
    /// </summary>
    private static Task<List<ObservedDuration>> ObservedAsync(NpgsqlConnection connection, CancellationToken ct) =>
        Rows.ReadAsync(connection,
            """
            WITH e AS (
                SELECT m.site_id, ev.step, ev.to_state, ev.actor, ev.occurred_at,
                       lead(ev.occurred_at) OVER (PARTITION BY ev.machine_id ORDER BY ev.id) AS ended_at
                FROM reimage.machine_events ev JOIN reimage.machines m ON m.id = ev.machine_id
                WHERE ev.kind = 'transition')
            SELECT site_id, step, extract(epoch FROM ended_at - occurred_at)
            FROM e WHERE to_state = 'InProgress' AND step IS NOT NULL AND ended_at IS NOT NULL
            ORDER BY ended_at DESC LIMIT 200000
            """,
            r => new ObservedDuration(r.GetGuid(0), Enum.Parse<Step>(r.GetString(1)), TimeSpan.FromSeconds(Math.Max(0.001, r.GetDouble(2)))), ct);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}
