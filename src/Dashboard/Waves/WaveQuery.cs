using Npgsql;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Waves;

/// <summary>Reads waves with their machines by state and their gates, and resolves "saved filter" selections.</summary>
public sealed class WaveQuery(NpgsqlDataSource db)
{
    public async Task<IReadOnlyList<WaveView>> ListAsync(CancellationToken ct)
    {
        var counts = new Dictionary<Guid, Dictionary<string, long>>();
        await using (var command = db.CreateCommand("SELECT wave_id, state, count(*) FROM reimage.recoveries WHERE wave_id IS NOT NULL GROUP BY 1, 2"))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var byState = counts.TryGetValue(reader.GetGuid(0), out var found) ? found : counts[reader.GetGuid(0)] = [];
                byState[reader.GetString(1)] = reader.GetInt64(2);
            }
        }

        var gates = new List<(Guid Wave, Guid DependsOn, int Percent)>();
        await using (var command = db.CreateCommand("SELECT wave_id, depends_on_wave_id, restored_percent FROM reimage.wave_gates"))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                gates.Add((reader.GetGuid(0), reader.GetGuid(1), reader.GetInt32(2)));
            }
        }

        var waves = new List<(Guid Id, string Name, int Ordinal, string Status, string? By, DateTimeOffset? At, DateTimeOffset? Launched)>();
        await using (var command = db.CreateCommand("SELECT id, name, ordinal, status, approved_by, approved_at, launched_at FROM reimage.waves ORDER BY ordinal, name"))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                waves.Add((reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
                    reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6)));
            }
        }

        double RestoredPercent(Guid wave)
        {
            var byState = counts.GetValueOrDefault(wave) ?? [];
            var total = byState.Values.Sum();
            // As the dispatcher counts it: finished machines (restored, skipped, decommissioned) no longer hold a gate; an empty wave holds nothing.
            var done = byState.Where(s => RecoveryTransitions.IsFinal(Enum.Parse<RecoveryState>(s.Key))).Sum(s => s.Value);
            return total == 0 ? 100 : 100.0 * done / total;
        }

        return waves.Select(w => new WaveView(w.Id, w.Name, w.Ordinal, w.Status, w.By, w.At, w.Launched,
            counts.GetValueOrDefault(w.Id) ?? [],
            gates.Where(g => g.Wave == w.Id).Select(g => new GateView(g.DependsOn, waves.First(x => x.Id == g.DependsOn).Name, g.Percent,
                Math.Round(RestoredPercent(g.DependsOn), 1), RestoredPercent(g.DependsOn) >= g.Percent)).ToList())).ToList();
    }

    /// <summary>Not-yet-planned machines matching the filter (empty fields match everything).</summary>
    public async Task<Guid[]> NotPlannedMatchingAsync(AddMachines filter, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            SELECT m.id FROM reimage.machines m
            JOIN reimage.recoveries r ON r.machine_id = m.id
            JOIN reimage.sites s ON s.id = m.site_id
            WHERE r.state = 'NotPlanned'
              AND (@site::text IS NULL OR lower(s.code) = lower(@site))
              AND (@role::text IS NULL OR m.role = @role)
              AND (@crit::int IS NULL OR m.criticality <= @crit)
              AND (@dept::text IS NULL OR lower(m.department) = lower(@dept))
            """);
        command.Parameters.Add(new NpgsqlParameter("site", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)filter.Site ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("role", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)filter.Role ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("crit", NpgsqlTypes.NpgsqlDbType.Integer) { Value = (object?)filter.MaxCriticality ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("dept", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)filter.Department ?? DBNull.Value });
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetGuid(0));
        }

        return [.. ids];
    }
}
