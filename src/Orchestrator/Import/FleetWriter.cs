using Npgsql;
using Reimage.Orchestrator.Audit;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Import;

/// <summary>
/// Writes the staged rows into the fleet with set-based statements, a fixed number whatever the file size:
/// create unknown sites, update machines that changed (and append an <c>updated</c> event each), move their
/// recovery path while it is still only a plan, insert new machines with their recovery record and an
/// <c>imported</c> event. Runs inside the caller's transaction.
/// </summary>
internal static class FleetWriter
{
    /// <summary>
    /// Every staged row with the machine it matches (by hostname, case-insensitively) and the list of fields
    /// the file changes on it. Recovery state is never compared: an import does not touch it.
    /// </summary>
    public const string DiffQuery =
        $"""
        SELECT s.*, m.id AS machine_id, st.id AS site_id, concat_ws(', ',
            CASE WHEN m.hostname IS DISTINCT FROM s.hostname THEN 'hostname' END,
            CASE WHEN m.asset_tag IS DISTINCT FROM s.asset_tag THEN 'asset_tag' END,
            CASE WHEN m.serial_number IS DISTINCT FROM s.serial_number THEN 'serial_number' END,
            CASE WHEN m.mac_addresses IS DISTINCT FROM s.mac_addresses THEN 'mac_addresses' END,
            CASE WHEN m.ip_address IS DISTINCT FROM s.ip_address THEN 'ip_address' END,
            CASE WHEN m.site_id IS DISTINCT FROM st.id THEN 'site' END,
            CASE WHEN m.building IS DISTINCT FROM s.building THEN 'building' END,
            CASE WHEN m.floor IS DISTINCT FROM s.floor THEN 'floor' END,
            CASE WHEN m.room IS DISTINCT FROM s.room THEN 'room' END,
            CASE WHEN m.department IS DISTINCT FROM s.department THEN 'department' END,
            CASE WHEN m.owner IS DISTINCT FROM s.owner THEN 'owner' END,
            CASE WHEN m.role IS DISTINCT FROM s.role THEN 'role' END,
            CASE WHEN m.criticality IS DISTINCT FROM s.criticality THEN 'criticality' END,
            CASE WHEN m.model IS DISTINCT FROM s.model THEN 'model' END,
            CASE WHEN m.disk_type IS DISTINCT FROM s.disk_type THEN 'disk_type' END,
            CASE WHEN m.bmc_address IS DISTINCT FROM s.bmc_address THEN 'bmc_address' END,
            CASE WHEN m.image_profile IS DISTINCT FROM s.image_profile THEN 'image_profile' END,
            CASE WHEN {PathChanges} THEN 'recovery_path' END) AS changed
        FROM {FleetStaging.Table} s
        LEFT JOIN reimage.machines m ON m.hostname_key = lower(s.hostname)
        LEFT JOIN reimage.recoveries r ON r.machine_id = m.id
        LEFT JOIN {FleetStaging.SitesTable} st ON st.key = lower(s.site)
        """;

    /// <summary>A path is a plan: it may change until the machine is queued, never once work on it has begun.</summary>
    private const string PathChanges =
        $"s.path IS NOT NULL AND r.path <> s.path AND r.state IN ('{nameof(RecoveryState.NotPlanned)}', '{nameof(RecoveryState.Planned)}')";

    /// <summary>Existing sites by lower-case code. Codes are unique only as written, so the oldest of a case-variant pair wins.</summary>
    public static async Task MapSitesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var map = new NpgsqlCommand(
            $"""
            CREATE TEMPORARY TABLE {FleetStaging.SitesTable} ON COMMIT DROP AS
            SELECT DISTINCT ON (lower(code)) lower(code) AS key, id, time_zone FROM reimage.sites ORDER BY lower(code), created_at, id
            """, connection);
        await map.ExecuteNonQueryAsync(ct);
    }

    public static async Task<(int Inserted, int Updated, List<string> SitesCreated)> WriteAsync(
        NpgsqlConnection connection, Actor actor, DateTimeOffset now, CancellationToken ct)
    {
        var sitesCreated = new List<string>();
        await using (var sites = Command(connection, now, actor,
            $"""
            WITH wanted AS (
                SELECT DISTINCT ON (lower(s.site)) s.site, s.line FROM {FleetStaging.Table} s
                WHERE NOT EXISTS (SELECT 1 FROM {FleetStaging.SitesTable} x WHERE x.key = lower(s.site))
                ORDER BY lower(s.site), s.line),
            created AS (
                INSERT INTO reimage.sites (id, code, name, time_zone, imaging_slots, created_at)
                SELECT gen_random_uuid(), w.site, w.site, 'UTC', 25, @now FROM wanted w ORDER BY w.line
                RETURNING id, code, time_zone),
            mapped AS (
                INSERT INTO {FleetStaging.SitesTable} (key, id, time_zone) SELECT lower(code), id, time_zone FROM created)
            SELECT code FROM created
            """))
        await using (var reader = await sites.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                sitesCreated.Add(reader.GetString(0));
            }
        }

        // Lock the recovery records of the machines this import changes, so that the chain heads read below stay the
        // heads while their 'updated' events are appended (a transition in flight waits for the import to commit).
        await using (var lockHeads = Command(connection, now, actor,
            $"""
            SELECT r.machine_id FROM ({DiffQuery} WHERE m.id IS NOT NULL) d
            JOIN reimage.recoveries r ON r.machine_id = d.machine_id
            WHERE d.changed <> ''
            ORDER BY r.machine_id
            FOR UPDATE OF r
            """))
        {
            await lockHeads.ExecuteNonQueryAsync(ct);
        }

        int updated;
        await using (var update = Command(connection, now, actor,
            $"""
            WITH diff AS ({DiffQuery} WHERE m.id IS NOT NULL),
            changed AS (
                UPDATE reimage.machines m
                SET hostname = d.hostname, asset_tag = d.asset_tag, serial_number = d.serial_number, mac_addresses = d.mac_addresses,
                    ip_address = d.ip_address, site_id = d.site_id, building = d.building, floor = d.floor, room = d.room,
                    department = d.department, owner = d.owner, role = d.role, criticality = d.criticality, model = d.model,
                    disk_type = d.disk_type, bmc_address = d.bmc_address, image_profile = d.image_profile, updated_at = @now
                FROM diff d
                WHERE m.id = d.machine_id AND d.changed <> ''
                RETURNING m.id, m.site_id, d.changed),
            entries AS (
                SELECT c.id AS machine_id, 'updated' AS kind, NULL::text AS from_state, NULL::text AS to_state, NULL::text AS step,
                    'changed: ' || c.changed AS detail, st.time_zone
                FROM changed c JOIN {FleetStaging.SitesTable} st ON st.id = c.site_id),
            {AuditChain.Append("entries")}
            SELECT count(*) FROM appended
            """))
        {
            updated = Convert.ToInt32(await update.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
        }

        // The version moves with the path so that a planner holding the old path loses its compare-and-set.
        await using (var path = Command(connection, now, actor,
            $"""
            UPDATE reimage.recoveries r SET path = s.path, version = r.version + 1
            FROM {FleetStaging.Table} s JOIN reimage.machines m ON m.hostname_key = lower(s.hostname)
            WHERE r.machine_id = m.id AND {PathChanges}
            """))
        {
            await path.ExecuteNonQueryAsync(ct);
        }

        int inserted;
        await using (var insert = Command(connection, now, actor,
            $"""
            WITH fresh AS (
                INSERT INTO reimage.machines (id, hostname, asset_tag, serial_number, mac_addresses, ip_address, site_id, building, floor,
                    room, department, owner, role, criticality, model, disk_type, bmc_address, image_profile, created_at, updated_at)
                SELECT s.id, s.hostname, s.asset_tag, s.serial_number, s.mac_addresses, s.ip_address, st.id, s.building, s.floor,
                    s.room, s.department, s.owner, s.role, s.criticality, s.model, s.disk_type, s.bmc_address, s.image_profile, @now, @now
                FROM {FleetStaging.Table} s JOIN {FleetStaging.SitesTable} st ON st.key = lower(s.site)
                WHERE NOT EXISTS (SELECT 1 FROM reimage.machines m WHERE m.hostname_key = lower(s.hostname))
                RETURNING id, site_id),
            entries AS (
                SELECT f.id AS machine_id, 'imported' AS kind, NULL::text AS from_state, NULL::text AS to_state, NULL::text AS step,
                    NULL::text AS detail, st.time_zone
                FROM fresh f JOIN {FleetStaging.SitesTable} st ON st.id = f.site_id),
            {AuditChain.Start("entries")}
            INSERT INTO reimage.recoveries (machine_id, state, path, attempt, failures, state_changed_at, version, chain_head)
            SELECT c.machine_id, '{nameof(RecoveryState.NotPlanned)}', coalesce(s.path, s.default_path), 0, 0, @now, 0, c.hash
            FROM started c JOIN {FleetStaging.Table} s ON s.id = c.machine_id
            """))
        {
            inserted = await insert.ExecuteNonQueryAsync(ct);
        }

        return (inserted, updated, sitesCreated);
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, DateTimeOffset now, Actor actor, string sql)
    {
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("actor", actor.Name);
        command.Parameters.AddWithValue("origin", actor.Origin);
        return command;
    }
}
