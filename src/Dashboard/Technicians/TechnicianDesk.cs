using System.Security.Claims;
using Npgsql;
using Reimage.Dashboard.Accounts;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Technicians;

/// <summary>A roster entry a signed-in person may work as.</summary>
public sealed record RosterEntry(Guid Id, string Name, string SiteCode);

/// <summary>An evidence item taken from a machine, as the tablet shows it.</summary>
public sealed record EvidenceLine(string DriveSerial, string BagId, string SealId, string HeldAt, DateTimeOffset CollectedAt);

/// <summary>One printed asset label.</summary>
public sealed record LabelLine(string Code, string Hostname, string Where);

/// <summary>Everything a technician needs at the machine.</summary>
public sealed record MachineCard(
    Guid Id, string Hostname, string? AssetTag, string? SerialNumber, string SiteCode, string SiteName, string? Building, string? Floor, string? Room,
    string? Department, string? Owner, string? Model, string? DiskType, RecoveryState State, RecoveryPath Path, Step? Step, int Attempt,
    string? FailureReason, string? HeldBy, IReadOnlyList<EvidenceLine> Evidence)
{
    public string Tag => AssetTag ?? Hostname;

    public string Location => string.Join(" · ", new[] { Building, Floor is null ? null : $"floor {Floor}", Room is null ? null : $"room {Room}" }.Where(p => p is not null));

    public bool AtHandsOnStep => State == RecoveryState.InProgress && RecoveryPaths.HandsOnSteps.Contains(Step?.ToString());
}

/// <summary>
/// The reads behind the technician's tablet pages: who the signed-in person works as, finding a machine by its scanned
/// asset tag (only at their sites), and the machine's card. The writes go through <see cref="HandsOnSteps"/> and
/// <see cref="Orchestrator.Scheduling.TechnicianWork"/>.
/// </summary>
public sealed class TechnicianDesk(NpgsqlDataSource db)
{
    /// <summary>The roster entries the person may work as: their linked entry; for leads and admins, any.</summary>
    public async Task<IReadOnlyList<RosterEntry>> RosterAsync(ClaimsPrincipal user, CancellationToken ct)
    {
        var linked = user.FindAll(ReimageClaimsFactory.TechnicianClaim).Select(c => Guid.TryParse(c.Value, out var id) ? id : Guid.Empty).ToArray();
        var everyone = SiteScope.Unrestricted(user);
        await using var connection = await db.OpenConnectionAsync(ct);
        return await Rows.ReadAsync(connection,
            """
            SELECT t.id, t.name, s.code FROM reimage.technicians t JOIN reimage.sites s ON s.id = t.site_id
            WHERE t.active AND (@everyone OR t.id = ANY(@linked)) ORDER BY s.code, t.name
            """,
            r => new RosterEntry(r.GetGuid(0), r.GetString(1), r.GetString(2)), ct, ("everyone", everyone), ("linked", linked));
    }

    /// <summary>
    /// The machine whose asset tag (or, failing that, host name or serial number) is <paramref name="scanned"/>, at one
    /// of the person's sites; null when there is none there.
    /// </summary>
    public async Task<Guid?> FindAsync(ClaimsPrincipal user, string scanned, CancellationToken ct)
    {
        var key = scanned.Trim();
        if (key.Length is 0 or > 64)
        {
            return null;
        }

        await using var command = db.CreateCommand(
            """
            SELECT m.id FROM reimage.machines m JOIN reimage.sites s ON s.id = m.site_id
            WHERE (upper(m.asset_tag) = upper(@key) OR m.hostname_key = lower(@key) OR m.serial_number = @key)
              AND (@sites::text[] IS NULL OR upper(s.code) = ANY(@sites))
            ORDER BY (upper(m.asset_tag) = upper(@key)) DESC NULLS LAST LIMIT 1
            """);
        command.Parameters.AddWithValue("key", key);
        command.Parameters.AddWithValue("sites", (object?)SiteScope.SitesOf(user) ?? DBNull.Value);
        return await command.ExecuteScalarAsync(ct) as Guid?;
    }

    public async Task<MachineCard?> CardAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var evidence = await Rows.ReadAsync(connection,
            """
            SELECT e.drive_serial, e.evidence_bag_id, e.seal_id, e.storage_location, e.collected_at
            FROM reimage.evidence_items e WHERE e.machine_id = @id ORDER BY e.collected_at
            """,
            r => new EvidenceLine(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetFieldValue<DateTimeOffset>(4)), ct, ("id", id));
        var cards = await Rows.ReadAsync(connection,
            """
            SELECT m.id, m.hostname, m.asset_tag, m.serial_number, s.code, s.name, m.building, m.floor, m.room, m.department, m.owner, m.model,
                   m.disk_type, r.state, r.path, r.step, r.attempt, r.failure_reason, t.name
            FROM reimage.machines m JOIN reimage.sites s ON s.id = m.site_id JOIN reimage.recoveries r ON r.machine_id = m.id
            LEFT JOIN reimage.technicians t ON t.id = r.technician_id
            WHERE m.id = @id
            """,
            r => new MachineCard(r.GetGuid(0), r.GetString(1), Text(r, 2), Text(r, 3), r.GetString(4), r.GetString(5), Text(r, 6), Text(r, 7), Text(r, 8),
                Text(r, 9), Text(r, 10), Text(r, 11), Text(r, 12), Enum.Parse<RecoveryState>(r.GetString(13)), Enum.Parse<RecoveryPath>(r.GetString(14)),
                Text(r, 15) is { } step ? Enum.Parse<Step>(step) : null, r.GetInt32(16), Text(r, 17), Text(r, 18), evidence), ct, ("id", id));
        return cards.SingleOrDefault();
    }

    public const int LabelPage = 120;

    /// <summary>Labels for one machine, or a page of a site's (optionally one building's) machines in walking order.</summary>
    public async Task<IReadOnlyList<LabelLine>> LabelsAsync(string? siteCode, string? building, Guid? machine, int page, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await Rows.ReadAsync(connection,
            """
            SELECT coalesce(m.asset_tag, m.hostname), m.hostname,
                   concat_ws(' · ', s.code, m.building, 'floor ' || m.floor, 'room ' || m.room)
            FROM reimage.machines m JOIN reimage.sites s ON s.id = m.site_id
            WHERE (@machine::uuid IS NULL OR m.id = @machine) AND (@site::text IS NULL OR upper(s.code) = upper(@site))
              AND (@building::text IS NULL OR m.building = @building)
            ORDER BY m.building NULLS LAST, m.floor NULLS LAST, m.room NULLS LAST, m.hostname_key
            LIMIT @take OFFSET @skip
            """,
            r => new LabelLine(r.GetString(0), r.GetString(1), r.GetString(2)), ct,
            ("machine", (object?)machine ?? DBNull.Value), ("site", (object?)siteCode ?? DBNull.Value),
            ("building", string.IsNullOrWhiteSpace(building) ? DBNull.Value : building.Trim()), ("take", LabelPage), ("skip", page * LabelPage));
    }

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}
