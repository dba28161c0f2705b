using Npgsql;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Scheduling;

/// <summary>A technician on shift now, and how many hands-on steps their queue may hold.</summary>
public sealed record OnShiftTechnician(Guid Id, Guid SiteId, string Name, string? Building, int Capacity);

/// <summary>
/// What every site can take on at one moment: free imaging slots (bounded by USB media at USB-imaged sites),
/// technicians on shift in the site's own time zone and the hands-on work they can still take, and spare parts
/// available. Read in the dispatcher's transaction; also what the capacity view shows.
/// </summary>
public sealed class CapacitySnapshot
{
    public required IReadOnlyList<SiteCapacity> Sites { get; init; }

    public required IReadOnlyList<OnShiftTechnician> OnShift { get; init; }

    public required IReadOnlyDictionary<Guid, string> SiteCodes { get; init; }

    public string SiteCode(Guid siteId) => SiteCodes.GetValueOrDefault(siteId, siteId.ToString());

    public static async Task<CapacitySnapshot> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, DateTimeOffset now, CancellationToken ct)
    {
        var sites = new List<(Guid Id, string Code, int Slots, bool Usb, int PerTechnician, string TimeZone, int InSlots, int HandsOn)>();
        await using (var select = new NpgsqlCommand(
            """
            WITH busy AS (
                SELECT m.site_id,
                       count(*) FILTER (WHERE r.step = ANY(@slotSteps)) AS in_slots,
                       count(*) FILTER (WHERE r.step = ANY(@handsOn)) AS hands_on
                FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id
                WHERE r.state = 'InProgress'
                GROUP BY m.site_id)
            SELECT s.id, s.code, s.imaging_slots, s.images_from_usb, s.hands_on_per_technician, s.time_zone,
                   coalesce(b.in_slots, 0), coalesce(b.hands_on, 0)
            FROM reimage.sites s LEFT JOIN busy b ON b.site_id = s.id
            """, connection, transaction))
        {
            select.Parameters.AddWithValue("slotSteps", RecoveryPaths.SlotSteps.ToArray());
            select.Parameters.AddWithValue("handsOn", RecoveryPaths.HandsOnSteps.ToArray());
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                sites.Add((reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), reader.GetBoolean(3), reader.GetInt32(4), reader.GetString(5),
                    (int)reader.GetInt64(6), (int)reader.GetInt64(7)));
            }
        }

        var stock = new Dictionary<Guid, Dictionary<string, (int OnHand, int Available)>>();
        await using (var select = new NpgsqlCommand("SELECT site_id, item, on_hand, on_hand - reserved FROM reimage.spare_stock", connection, transaction))
        {
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                if (!stock.TryGetValue(reader.GetGuid(0), out var items))
                {
                    stock[reader.GetGuid(0)] = items = [];
                }

                items[reader.GetString(1)] = (reader.GetInt32(2), Math.Max(0, reader.GetInt32(3)));
            }
        }

        var zones = sites.ToDictionary(s => s.Id, s => Zone(s.TimeZone));
        var perTechnician = sites.ToDictionary(s => s.Id, s => s.PerTechnician);
        var onShift = new Dictionary<Guid, OnShiftTechnician>();
        await using (var select = new NpgsqlCommand(
            """
            SELECT t.id, t.site_id, t.name, t.building, sh.days, sh.starts, sh.ends
            FROM reimage.technicians t JOIN reimage.shifts sh ON sh.technician_id = t.id
            WHERE t.active
            """, connection, transaction))
        {
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var site = reader.GetGuid(1);
                var local = TimeZoneInfo.ConvertTime(now, zones[site]).DateTime;
                if (Shift.Covers((ShiftDays)reader.GetInt32(4), reader.GetFieldValue<TimeOnly>(5), reader.GetFieldValue<TimeOnly>(6), local))
                {
                    onShift[reader.GetGuid(0)] = new OnShiftTechnician(reader.GetGuid(0), site, reader.GetString(2),
                        reader.IsDBNull(3) ? null : reader.GetString(3), perTechnician[site]);
                }
            }
        }

        var crews = onShift.Values.GroupBy(t => t.SiteId).ToDictionary(g => g.Key, g => g.Count());
        return new CapacitySnapshot
        {
            SiteCodes = sites.ToDictionary(s => s.Id, s => s.Code),
            OnShift = onShift.Values.ToList(),
            Sites = sites.Select(s =>
            {
                var items = stock.GetValueOrDefault(s.Id) ?? [];
                var slots = s.Usb ? Math.Min(s.Slots, items.GetValueOrDefault(SpareStock.UsbMedia).OnHand) : s.Slots;
                return new SiteCapacity(s.Id,
                    FreeSlots: Math.Max(0, slots - s.InSlots),
                    FreeHandsOn: Math.Max(0, crews.GetValueOrDefault(s.Id) * s.PerTechnician - s.HandsOn),
                    Parts: items.Where(i => i.Key != SpareStock.UsbMedia).ToDictionary(i => i.Key, i => i.Value.Available));
            }).ToList(),
        };
    }

    /// <summary>The site's zone; an id this machine does not know falls back to UTC rather than stopping dispatch for every site.</summary>
    public static TimeZoneInfo Zone(string id) =>
        TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : TimeZoneInfo.Utc;
}
