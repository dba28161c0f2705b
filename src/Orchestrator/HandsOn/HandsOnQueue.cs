using Npgsql;
using Reimage.Orchestrator.Workflow;
using Reimage.Orchestrator.Scheduling;

namespace Reimage.Orchestrator.HandsOn;

/// <summary>A machine at a hands-on step, with whoever holds it.</summary>
public sealed record HandsOnItem(HandsOnWork Work, long Version, Step Step, Guid? TechnicianId, string? TechnicianName, string? AssetTag)
{
    public Guid MachineId => Work.MachineId;

    public string? Building => Work.Building;

    public string? Floor => Work.Floor;
}

/// <summary>Reads the machines waiting at hands-on steps: the whole fleet's for the dispatcher, one site's or one technician's for people.</summary>
public static class HandsOnQueue
{
    public static async Task<List<HandsOnItem>> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid? technicianId, CancellationToken ct)
    {
        await using var select = new NpgsqlCommand(
            $"""
            SELECT r.machine_id, m.site_id, m.building, m.floor, m.room, m.hostname, r.version, r.step, r.technician_id, t.name, m.asset_tag
            FROM reimage.recoveries r
            JOIN reimage.machines m ON m.id = r.machine_id
            LEFT JOIN reimage.technicians t ON t.id = r.technician_id
            WHERE r.state = 'InProgress' AND r.step = ANY(@handsOn) {(technicianId is null ? "" : "AND r.technician_id = @technician")}
            """, connection, transaction);
        select.Parameters.AddWithValue("handsOn", RecoveryPaths.HandsOnSteps.ToArray());
        if (technicianId is not null)
        {
            select.Parameters.AddWithValue("technician", technicianId.Value);
        }

        var items = new List<HandsOnItem>();
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var work = new HandsOnWork(reader.GetGuid(0), reader.GetGuid(1), Text(reader, 2), Text(reader, 3), Text(reader, 4), reader.GetString(5));
            items.Add(new HandsOnItem(work, reader.GetInt64(6), Enum.Parse<Step>(reader.GetString(7)),
                reader.IsDBNull(8) ? null : reader.GetGuid(8), Text(reader, 9), Text(reader, 10)));
        }

        return items;
    }

    private static string? Text(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
}
