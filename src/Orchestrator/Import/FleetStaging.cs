using Npgsql;
using NpgsqlTypes;

namespace Reimage.Orchestrator.Import;

/// <summary>A serial or MAC in the file that the fleet already gives to another machine.</summary>
internal sealed record FleetConflict(int Line, bool IsSerial, string Value, string OwnerHostname);

/// <summary>What the import would do, read from the staged rows before anything is written.</summary>
internal sealed record ImportPreview(int Inserts, int Updates, int Unchanged, IReadOnlyList<string> NewSites,
    IReadOnlyDictionary<string, int> FieldsChanged, IReadOnlyList<MachineChange> Changes)
{
    public static readonly ImportPreview None = new(0, 0, 0, [], new Dictionary<string, int>(), []);

    /// <summary>How many machines each field changes on, from the per-row lists of changed fields.</summary>
    public static Dictionary<string, int> CountFields(IEnumerable<string> changedLists) =>
        changedLists.SelectMany(c => c.Split(", ", StringSplitOptions.RemoveEmptyEntries))
            .GroupBy(f => f).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
}

/// <summary>
/// The file's rows in a temporary table (binary COPY: the fastest way into PostgreSQL), and the set-based
/// questions asked of them against the fleet. The table lives only as long as the import's transaction.
/// </summary>
internal static class FleetStaging
{
    public const string Table = "import_staging";

    /// <summary>Site codes resolved (case-insensitively) to ids; filled after unknown sites are created.</summary>
    public const string SitesTable = "import_sites";

    private static readonly string[] Columns =
    [
        "line", "id", "hostname", "asset_tag", "serial_number", "mac_addresses", "ip_address", "site", "new_site", "building", "floor", "room",
        "department", "owner", "role", "inferred_role", "new_role", "criticality", "new_criticality", "model", "disk_type", "bmc_address", "image_profile",
        "path", "default_path", "cleared", "location", "distinguished_name",
    ];

    /// <summary>
    /// Copies the rows. <c>site</c> is the site the row names, <c>new_site</c> the one a new machine gets (the row's,
    /// or else <paramref name="defaultSite"/>); <c>role</c> and <c>criticality</c> are null when the row states none, and
    /// <c>new_role</c>/<c>new_criticality</c> are what a new machine then gets.
    /// </summary>
    public static async Task CopyAsync(NpgsqlConnection connection, IReadOnlyList<StagedMachine> rows, string? defaultSite, CancellationToken ct)
    {
        await using (var create = new NpgsqlCommand(
            $"""
            CREATE TEMPORARY TABLE {Table} (
                line int NOT NULL, id uuid NOT NULL, hostname text, asset_tag text, serial_number text, mac_addresses text[] NOT NULL,
                ip_address text, site text, new_site text, building text, floor text, room text, department text, owner text, role text,
                inferred_role text, new_role text NOT NULL, criticality int, new_criticality int NOT NULL, model text, disk_type text, bmc_address text,
                image_profile text, path text, default_path text NOT NULL, cleared int NOT NULL, location text, distinguished_name text
            ) ON COMMIT DROP
            """, connection))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        await using (var copy = await connection.BeginBinaryImportAsync(
            $"COPY {Table} ({string.Join(", ", Columns)}) FROM STDIN (FORMAT BINARY)", ct))
        {
            // Synchronous writes: Npgsql buffers them and only flushes full buffers; awaiting each of 2 million
            // values costs more than the occasional blocking flush.
            foreach (var row in rows)
            {
                ct.ThrowIfCancellationRequested();
                copy.StartRow();
                copy.Write(row.Line, NpgsqlDbType.Integer);
                copy.Write(row.NewId, NpgsqlDbType.Uuid);
                WriteText(copy, row.Hostname);
                WriteText(copy, row.AssetTag);
                WriteText(copy, row.SerialNumber);
                copy.Write(row.MacAddresses, NpgsqlDbType.Array | NpgsqlDbType.Text);
                WriteText(copy, row.IpAddress);
                WriteText(copy, row.Site);
                WriteText(copy, row.Site ?? defaultSite);
                WriteText(copy, row.Building);
                WriteText(copy, row.Floor);
                WriteText(copy, row.Room);
                WriteText(copy, row.Department);
                WriteText(copy, row.Owner);
                WriteText(copy, row.Role is { } role ? RoleNames[(int)role] : null);
                WriteText(copy, row.InferredRole is { } inferred ? RoleNames[(int)inferred] : null);
                WriteText(copy, RoleNames[(int)row.NewRole]);
                if (row.Criticality is { } criticality)
                {
                    copy.Write(criticality, NpgsqlDbType.Integer);
                }
                else
                {
                    copy.WriteNull();
                }

                copy.Write(row.NewCriticality, NpgsqlDbType.Integer);
                WriteText(copy, row.Model);
                WriteText(copy, row.DiskType);
                WriteText(copy, row.BmcAddress);
                WriteText(copy, row.ImageProfile);
                WriteText(copy, row.RecoveryPath is { } path ? PathNames[(int)path] : null);
                WriteText(copy, PathNames[(int)row.DefaultPath]);
                copy.Write(row.Cleared, NpgsqlDbType.Integer);
                WriteText(copy, row.Location);
                WriteText(copy, row.DistinguishedName);
            }

            await copy.CompleteAsync(ct);
        }

        // Without statistics the planner takes a temporary table for tiny and picks nested loops over the fleet.
        await using var analyze = new NpgsqlCommand($"ANALYZE {Table}", connection);
        await analyze.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Places rows that name no site by the lead's site rules (first match in position order); a rule's site also
    /// beats the import's default site. Returns how many rows a rule placed.
    /// </summary>
    public static async Task<int> ApplySiteRulesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var apply = new NpgsqlCommand(
            $"""
            UPDATE {Table} s SET site = x.code, new_site = x.code
            FROM (
                SELECT t.line, (
                    SELECT st.code FROM reimage.site_rules r JOIN reimage.sites st ON st.id = r.site_id
                    WHERE CASE r.kind
                        WHEN 'Location' THEN lower(t.location) LIKE {Like("r.pattern")}
                        WHEN 'OrganizationalUnit' THEN position(lower(r.pattern) IN lower(t.distinguished_name)) > 0
                        WHEN 'Subnet' THEN t.ip_address::inet <<= r.pattern::cidr
                        WHEN 'HostnamePrefix' THEN lower(t.hostname) LIKE {Like("r.pattern")} || '%'
                    END
                    ORDER BY r.position, r.created_at
                    LIMIT 1) AS code
                FROM {Table} t
                WHERE t.site IS NULL AND EXISTS (SELECT 1 FROM reimage.site_rules)) x
            WHERE x.line = s.line AND x.code IS NOT NULL
            """, connection) { CommandTimeout = 0 };
        return await apply.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A rule pattern as a LIKE pattern: <c>%</c>, <c>_</c> and <c>\</c> literal, <c>*</c> any text, any case.</summary>
    private static string Like(string pattern) =>
        $"replace(replace(replace(replace(lower({pattern}), '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '*', '%')";

    /// <summary>
    /// Serials of the file that belong to a machine with another hostname (compared without case): errors. MACs of
    /// the file that another machine already has: shared MACs (docks, USB adapters), reported as warnings.
    /// </summary>
    public static async Task<List<FleetConflict>> FindConflictsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var query = new NpgsqlCommand(
            $"""
            SELECT s.line, true, s.serial_number, m.hostname
            FROM {Table} s JOIN reimage.machines m ON upper(m.serial_number) = upper(s.serial_number)
            WHERE m.hostname_key IS DISTINCT FROM lower(s.hostname)
            UNION ALL
            SELECT s.line, false, x.mac, string_agg(m.hostname, ', ' ORDER BY m.hostname)
            FROM {Table} s CROSS JOIN LATERAL unnest(s.mac_addresses) AS x(mac)
            JOIN (SELECT m.hostname, m.hostname_key, unnest(m.mac_addresses) AS mac FROM reimage.machines m) m ON m.mac = x.mac
            WHERE m.hostname_key IS DISTINCT FROM lower(s.hostname)
            GROUP BY s.line, x.mac
            ORDER BY 1
            """, connection);
        var conflicts = new List<FleetConflict>();
        await using var reader = await query.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            conflicts.Add(new FleetConflict(reader.GetInt32(0), reader.GetBoolean(1), reader.GetString(2), reader.GetString(3)));
        }

        return conflicts;
    }

    /// <summary>
    /// Rows whose site cannot be used: a new machine with no site (no site column value and no default site), or a
    /// site code that does not exist when the import may not create sites. Must run after the sites are mapped.
    /// </summary>
    public static async Task<List<(int Line, string? Site)>> FindSiteProblemsAsync(NpgsqlConnection connection, bool createSites, CancellationToken ct)
    {
        await using var query = new NpgsqlCommand(
            $"""
            SELECT u.line, u.site FROM (
                SELECT s.line, CASE WHEN m.id IS NULL THEN s.new_site ELSE s.site END AS site, m.id IS NULL AS is_new
                FROM {Table} s LEFT JOIN reimage.machines m ON m.hostname_key = lower(s.hostname)
                WHERE s.hostname IS NOT NULL) u
            WHERE (u.is_new AND u.site IS NULL)
               OR (NOT @create AND u.site IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {SitesTable} x WHERE x.key = lower(u.site)))
            ORDER BY u.line
            """, connection);
        query.Parameters.AddWithValue("create", createSites);
        var problems = new List<(int, string?)>();
        await using var reader = await query.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            problems.Add((reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
        }

        return problems;
    }

    /// <summary>The codes of the existing sites, for an error that names an unknown one.</summary>
    public static async Task<List<string>> SiteCodesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var query = new NpgsqlCommand("SELECT code FROM reimage.sites ORDER BY code", connection);
        var codes = new List<string>();
        await using var reader = await query.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            codes.Add(reader.GetString(0));
        }

        return codes;
    }

    /// <summary>A dry run's answer: the counts, and per machine whether it is new and which fields change.</summary>
    public static async Task<ImportPreview> PreviewAsync(NpgsqlConnection connection, bool replaceMacs, CancellationToken ct)
    {
        var diff = new NpgsqlBatchCommand(
            $"""
            SELECT d.line, d.hostname, d.machine_id IS NULL, d.changed FROM ({FleetWriter.DiffQuery}) d
            WHERE d.hostname IS NOT NULL
            ORDER BY d.line
            """);
        diff.Parameters.AddWithValue("replace_macs", replaceMacs);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                diff,
                new NpgsqlBatchCommand(
                    $"""
                    SELECT n.site FROM (
                        SELECT DISTINCT ON (lower(u.site)) u.site, u.line FROM ({FleetWriter.UsedSites}) u
                        WHERE NOT EXISTS (SELECT 1 FROM {SitesTable} x WHERE x.key = lower(u.site))
                        ORDER BY lower(u.site), u.line) n
                    ORDER BY n.line
                    """),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(ct);
        var changes = new List<MachineChange>();
        var unchanged = 0;
        while (await reader.ReadAsync(ct))
        {
            var isNew = reader.GetBoolean(2);
            var changed = reader.GetString(3);
            if (!isNew && changed.Length == 0)
            {
                unchanged++;
                continue;
            }

            changes.Add(new MachineChange(reader.GetInt32(0), reader.GetString(1), isNew ? "insert" : "update", isNew ? [] : changed.Split(", ")));
        }

        await reader.NextResultAsync(ct);
        var sites = new List<string>();
        while (await reader.ReadAsync(ct))
        {
            sites.Add(reader.GetString(0));
        }

        var updates = changes.Where(c => c.Action == "update").ToList();
        return new ImportPreview(changes.Count - updates.Count, updates.Count, unchanged, sites,
            ImportPreview.CountFields(updates.Select(u => string.Join(", ", u.Fields))), changes);
    }

    private static readonly string[] RoleNames = Enum.GetNames<Machines.MachineRole>();
    private static readonly string[] PathNames = Enum.GetNames<Workflow.RecoveryPath>();

    private static void WriteText(NpgsqlBinaryImporter copy, string? value)
    {
        if (value is null)
        {
            copy.WriteNull();
        }
        else
        {
            copy.Write(value, NpgsqlDbType.Text);
        }
    }
}
