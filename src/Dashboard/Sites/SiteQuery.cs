using Reimage.Orchestrator.Infrastructure;
using Npgsql;
using Reimage.Orchestrator.Scheduling;

namespace Reimage.Dashboard.Sites;

public sealed record SiteView(
    Guid Id, string Code, string Name, string TimeZone, int ImagingSlots, bool ImagesFromUsb, int HandsOnPerTechnician,
    int FreeSlots, int FreeHandsOn, int InWork, int AwaitingParts, int Queued,
    IReadOnlyList<TechnicianView> Technicians, IReadOnlyList<StockView> Stock, IReadOnlyList<DeliveryView> Deliveries, IReadOnlyList<AlertView> Alerts);

public sealed record TechnicianView(Guid Id, string Name, string? Building, bool Active, bool OnShift, int Assigned, IReadOnlyList<ShiftView> Shifts);

public sealed record ShiftView(Guid Id, string Days, string Starts, string Ends);

public sealed record StockView(string Item, int OnHand, int Reserved, int Available);

public sealed record DeliveryView(Guid Id, string Item, int Quantity, string? Reference, DateTimeOffset? ExpectedAt, DateTimeOffset? ReceivedAt, string? ReceivedBy);

public sealed record AlertView(long Id, string Kind, string Subject, string Message, DateTimeOffset RaisedAt);

/// <summary>Sites with their capacity as the dispatcher sees it now: slots, technicians on shift, stock, deliveries and open alerts.</summary>
public sealed class SiteQuery(NpgsqlDataSource db, TimeProvider clock)
{
    public async Task<IReadOnlyList<SiteView>> ListAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var snapshot = await CapacitySnapshot.ReadAsync(connection, null, clock.GetUtcNow(), ct);
        var capacity = snapshot.Sites.ToDictionary(s => s.SiteId);
        var onShift = snapshot.OnShift.Select(t => t.Id).ToHashSet();

        var counts = await Rows.ReadAsync(connection,
            """
            SELECT m.site_id, count(*) FILTER (WHERE r.state = 'InProgress'), count(*) FILTER (WHERE r.state = 'AwaitingParts'), count(*) FILTER (WHERE r.state = 'Queued')
            FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id
            WHERE r.state IN ('InProgress', 'AwaitingParts', 'Queued') GROUP BY m.site_id
            """, r => (Site: r.GetGuid(0), InWork: (int)r.GetInt64(1), Awaiting: (int)r.GetInt64(2), Queued: (int)r.GetInt64(3)), ct);
        var assigned = (await Rows.ReadAsync(connection,
            "SELECT technician_id, count(*) FROM reimage.recoveries WHERE technician_id IS NOT NULL AND state = 'InProgress' GROUP BY 1",
            r => (Id: r.GetGuid(0), N: (int)r.GetInt64(1)), ct)).ToDictionary(x => x.Id, x => x.N);
        var shifts = (await Rows.ReadAsync(connection, "SELECT id, technician_id, days, starts, ends FROM reimage.shifts ORDER BY starts",
            r => (TechnicianId: r.GetGuid(1), View: new ShiftView(r.GetGuid(0), ((Orchestrator.Sites.ShiftDays)r.GetInt32(2)).ToString(),
                r.GetFieldValue<TimeOnly>(3).ToString("HH:mm"), r.GetFieldValue<TimeOnly>(4).ToString("HH:mm"))), ct))
            .ToLookup(s => s.TechnicianId, s => s.View);
        var technicians = (await Rows.ReadAsync(connection, "SELECT id, site_id, name, building, active FROM reimage.technicians ORDER BY name",
            r => (Site: r.GetGuid(1), View: new TechnicianView(r.GetGuid(0), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetBoolean(4),
                onShift.Contains(r.GetGuid(0)), assigned.GetValueOrDefault(r.GetGuid(0)), [.. shifts[r.GetGuid(0)]])), ct))
            .ToLookup(t => t.Site, t => t.View);
        var stock = (await Rows.ReadAsync(connection, "SELECT site_id, item, on_hand, reserved FROM reimage.spare_stock ORDER BY item",
            r => (Site: r.GetGuid(0), View: new StockView(r.GetString(1), r.GetInt32(2), r.GetInt32(3), Math.Max(0, r.GetInt32(2) - r.GetInt32(3)))), ct))
            .ToLookup(s => s.Site, s => s.View);
        var deliveries = (await Rows.ReadAsync(connection,
            "SELECT site_id, id, item, quantity, reference, expected_at, received_at, received_by FROM reimage.deliveries ORDER BY received_at NULLS FIRST, expected_at, created_at",
            r => (Site: r.GetGuid(0), View: new DeliveryView(r.GetGuid(1), r.GetString(2), r.GetInt32(3), r.IsDBNull(4) ? null : r.GetString(4),
                r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5), r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6), r.IsDBNull(7) ? null : r.GetString(7))), ct))
            .ToLookup(d => d.Site, d => d.View);
        var alerts = (await Rows.ReadAsync(connection, "SELECT site_id, id, kind, subject, message, raised_at FROM reimage.alerts WHERE resolved_at IS NULL ORDER BY raised_at",
            r => (Site: r.IsDBNull(0) ? Guid.Empty : r.GetGuid(0), View: new AlertView(r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetFieldValue<DateTimeOffset>(5))), ct))
            .ToLookup(a => a.Site, a => a.View);

        var byCount = counts.ToDictionary(c => c.Site);
        return (await Rows.ReadAsync(connection, "SELECT id, code, name, time_zone, imaging_slots, images_from_usb, hands_on_per_technician FROM reimage.sites ORDER BY code",
            r => (Id: r.GetGuid(0), Code: r.GetString(1), Name: r.GetString(2), Zone: r.GetString(3), Slots: r.GetInt32(4), Usb: r.GetBoolean(5), Per: r.GetInt32(6)), ct))
            .Select(s =>
            {
                var c = byCount.GetValueOrDefault(s.Id);
                var free = capacity[s.Id];
                return new SiteView(s.Id, s.Code, s.Name, s.Zone, s.Slots, s.Usb, s.Per, free.FreeSlots, free.FreeHandsOn, c.InWork, c.Awaiting, c.Queued,
                    [.. technicians[s.Id]], [.. stock[s.Id]], [.. deliveries[s.Id]], [.. alerts[s.Id]]);
            })
            .ToList();
    }
}
