using Npgsql;
using Reimage.Orchestrator.Audit;
using Reimage.Orchestrator.Machines;
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
    /// Every staged row with the machine it matches (by hostname, case-insensitively), the machine as it will be
    /// after the import (<c>n</c>), and the list of fields the file changes on it. The merge never loses data: a
    /// field the row says nothing about keeps its value, only a field the row clears is emptied, MACs are added to
    /// the ones the machine has (replaced only with <c>@replace_macs</c>), a role the export only hints at can raise
    /// the machine's role but never lower it, and the default role, criticality and site apply to new machines only.
    /// Recovery state is never compared: an import does not touch it.
    /// </summary>
    public static readonly string DiffQuery =
        $"""
        SELECT s.line, s.id, s.path, s.default_path, m.id AS machine_id, n.*, concat_ws(', ',
            CASE WHEN m.hostname IS DISTINCT FROM n.hostname THEN 'hostname' END,
            CASE WHEN m.asset_tag IS DISTINCT FROM n.asset_tag THEN 'asset_tag' END,
            CASE WHEN m.serial_number IS DISTINCT FROM n.serial_number THEN 'serial_number' END,
            CASE WHEN m.mac_addresses IS DISTINCT FROM n.mac_addresses THEN 'mac_addresses' END,
            CASE WHEN m.ip_address IS DISTINCT FROM n.ip_address THEN 'ip_address' END,
            CASE WHEN m.site_id IS DISTINCT FROM n.site_id THEN 'site' END,
            CASE WHEN m.building IS DISTINCT FROM n.building THEN 'building' END,
            CASE WHEN m.floor IS DISTINCT FROM n.floor THEN 'floor' END,
            CASE WHEN m.room IS DISTINCT FROM n.room THEN 'room' END,
            CASE WHEN m.department IS DISTINCT FROM n.department THEN 'department' END,
            CASE WHEN m.owner IS DISTINCT FROM n.owner THEN 'owner' END,
            CASE WHEN m.role IS DISTINCT FROM n.role THEN 'role' END,
            CASE WHEN m.criticality IS DISTINCT FROM n.criticality THEN 'criticality' END,
            CASE WHEN m.model IS DISTINCT FROM n.model THEN 'model' END,
            CASE WHEN m.disk_type IS DISTINCT FROM n.disk_type THEN 'disk_type' END,
            CASE WHEN m.bmc_address IS DISTINCT FROM n.bmc_address THEN 'bmc_address' END,
            CASE WHEN m.image_profile IS DISTINCT FROM n.image_profile THEN 'image_profile' END,
            CASE WHEN {PathChanges} THEN 'recovery_path' END) AS changed
        FROM {FleetStaging.Table} s
        LEFT JOIN reimage.machines m ON m.hostname_key = lower(s.hostname)
        LEFT JOIN reimage.recoveries r ON r.machine_id = m.id
        LEFT JOIN {FleetStaging.SitesTable} st ON st.key = lower(CASE WHEN m.id IS NULL THEN s.new_site ELSE s.site END)
        CROSS JOIN LATERAL (SELECT
            s.hostname AS hostname,
            {Merge("asset_tag", ImportField.AssetTag)} AS asset_tag,
            {Merge("serial_number", ImportField.SerialNumber)} AS serial_number,
            CASE WHEN s.cleared & {1 << (int)ImportField.MacAddresses} <> 0 OR (@replace_macs AND cardinality(s.mac_addresses) > 0) THEN s.mac_addresses
                 ELSE coalesce(m.mac_addresses, ARRAY[]::text[]) || ARRAY(SELECT x FROM unnest(s.mac_addresses) x WHERE NOT x = ANY(coalesce(m.mac_addresses, ARRAY[]::text[])))
            END AS mac_addresses,
            {Merge("ip_address", ImportField.IpAddress)} AS ip_address,
            coalesce(st.id, m.site_id) AS site_id,
            {Merge("building", ImportField.Building)} AS building,
            {Merge("floor", ImportField.Floor)} AS floor,
            {Merge("room", ImportField.Room)} AS room,
            {Merge("department", ImportField.Department)} AS department,
            {Merge("owner", ImportField.Owner)} AS owner,
            coalesce(s.role, CASE WHEN {RoleRank("s.inferred_role")} > {RoleRank("m.role")} THEN s.inferred_role END, m.role, s.new_role) AS role,
            coalesce(s.criticality, m.criticality, s.new_criticality) AS criticality,
            {Merge("model", ImportField.Model)} AS model,
            {Merge("disk_type", ImportField.DiskType)} AS disk_type,
            {Merge("bmc_address", ImportField.BmcAddress)} AS bmc_address,
            {Merge("image_profile", ImportField.ImageProfile)} AS image_profile) n
        """;

    /// <summary>
    /// Marks on every machine which of its MACs another machine also has (docks, USB adapters): the only place a
    /// shared MAC is decided. Run after every change of MACs; writes only machines whose marking changes.
    /// </summary>
    public const string MarkSharedMacs =
        """
        WITH shared AS MATERIALIZED (
            SELECT x.mac FROM (SELECT unnest(mac_addresses) AS mac FROM reimage.machines) x GROUP BY x.mac HAVING count(*) > 1)
        UPDATE reimage.machines m
        SET shared_mac_addresses = ARRAY(SELECT x FROM unnest(m.mac_addresses) x WHERE x IN (SELECT mac FROM shared))
        WHERE (cardinality(m.mac_addresses) > 0 OR cardinality(m.shared_mac_addresses) > 0)
          AND m.shared_mac_addresses IS DISTINCT FROM ARRAY(SELECT x FROM unnest(m.mac_addresses) x WHERE x IN (SELECT mac FROM shared))
        """;

    /// <summary>The site each row puts its machine at, where it names one: the row's own, or the default for a new machine.</summary>
    public static readonly string UsedSites =
        $"""
        SELECT s.line, CASE WHEN m.id IS NULL THEN s.new_site ELSE s.site END AS site
        FROM {FleetStaging.Table} s LEFT JOIN reimage.machines m ON m.hostname_key = lower(s.hostname)
        WHERE CASE WHEN m.id IS NULL THEN s.new_site ELSE s.site END IS NOT NULL
        """;

    /// <summary>Roles an export can only hint at, ordered: a hint raises a machine's role, never lowers it.</summary>
    private static string RoleRank(string role) =>
        $"(CASE {role} WHEN '{nameof(MachineRole.DomainController)}' THEN 3 WHEN '{nameof(MachineRole.Server)}' THEN 2 WHEN '{nameof(MachineRole.Workstation)}' THEN 1 WHEN '{nameof(MachineRole.Laptop)}' THEN 1 ELSE 0 END)";

    /// <summary>The row's value; else, unless the row clears the field, the machine's.</summary>
    private static string Merge(string column, ImportField field) =>
        $"CASE WHEN s.cleared & {1 << (int)field} <> 0 THEN NULL ELSE coalesce(s.{column}, m.{column}) END";

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

    public static async Task<(int Inserted, int Updated, List<string> SitesCreated, Dictionary<string, int> FieldsChanged)> WriteAsync(
        NpgsqlConnection connection, Actor actor, DateTimeOffset now, bool replaceMacs, CancellationToken ct)
    {
        var sitesCreated = new List<string>();
        await using (var sites = Command(connection, now, actor, replaceMacs,
            $"""
            WITH wanted AS (
                SELECT DISTINCT ON (lower(u.site)) u.site, u.line FROM ({UsedSites}) u
                WHERE NOT EXISTS (SELECT 1 FROM {FleetStaging.SitesTable} x WHERE x.key = lower(u.site))
                ORDER BY lower(u.site), u.line),
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
        await using (var lockHeads = Command(connection, now, actor, replaceMacs,
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
        Dictionary<string, int> fieldsChanged;
        await using (var update = Command(connection, now, actor, replaceMacs,
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
            SELECT (SELECT count(*) FROM appended), c.changed FROM changed c
            """))
        await using (var reader = await update.ExecuteReaderAsync(ct))
        {
            // One row per updated machine, each with its list of changed fields (the count of appended events repeats).
            var lists = new List<string>();
            updated = 0;
            while (await reader.ReadAsync(ct))
            {
                updated = (int)reader.GetInt64(0);
                lists.Add(reader.GetString(1));
            }

            fieldsChanged = ImportPreview.CountFields(lists);
        }

        // The version moves with the path so that a planner holding the old path loses its compare-and-set.
        await using (var path = Command(connection, now, actor, replaceMacs,
            $"""
            UPDATE reimage.recoveries r SET path = s.path, version = r.version + 1
            FROM {FleetStaging.Table} s JOIN reimage.machines m ON m.hostname_key = lower(s.hostname)
            WHERE r.machine_id = m.id AND {PathChanges}
            """))
        {
            await path.ExecuteNonQueryAsync(ct);
        }

        int inserted;
        await using (var insert = Command(connection, now, actor, replaceMacs,
            $"""
            WITH fresh AS (
                INSERT INTO reimage.machines (id, hostname, asset_tag, serial_number, mac_addresses, ip_address, site_id, building, floor,
                    room, department, owner, role, criticality, model, disk_type, bmc_address, image_profile, created_at, updated_at)
                -- A new machine has nothing to merge with: the row as staged, with the defaults for new machines.
                SELECT s.id, s.hostname, s.asset_tag, s.serial_number, s.mac_addresses, s.ip_address, st.id, s.building, s.floor,
                    s.room, s.department, s.owner, s.new_role, s.new_criticality, s.model, s.disk_type, s.bmc_address, s.image_profile, @now, @now
                FROM {FleetStaging.Table} s JOIN {FleetStaging.SitesTable} st ON st.key = lower(s.new_site)
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

        await using (var shared = Command(connection, now, actor, replaceMacs, MarkSharedMacs))
        {
            await shared.ExecuteNonQueryAsync(ct);
        }

        return (inserted, updated, sitesCreated, fieldsChanged);
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, DateTimeOffset now, Actor actor, bool replaceMacs, string sql)
    {
        var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("replace_macs", replaceMacs);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("actor", actor.Name);
        command.Parameters.AddWithValue("origin", actor.Origin);
        return command;
    }
}
