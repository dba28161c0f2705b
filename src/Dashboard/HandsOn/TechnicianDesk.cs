using System.Security.Claims;
using Npgsql;
using Reimage.Dashboard.Accounts;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Workflow;
using Reimage.Orchestrator.HandsOn;

namespace Reimage.Dashboard.HandsOn;

/// <summary>A roster entry a signed-in person may work as.</summary>
public sealed record RosterEntry(Guid Id, string Name, string SiteCode);

/// <summary>One printed asset label.</summary>
public sealed record LabelLine(string Code, string Hostname, string Where);

/// <summary>
/// The reads behind the technician's tablet pages: who the signed-in person works as, finding a machine by its scanned
/// asset tag (only at their sites), and asset labels. The machine itself is read by <see cref="Fleet.MachineDetailQuery"/>;
/// the writes go through <see cref="HandsOnSteps"/> and <see cref="Orchestrator.Scheduling.TechnicianWork"/>.
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
    /// The signed-in person as the actor of hands-on work: their account, and the roster entry linked to it (the one at
    /// the machine's site when they have several). Never a name from the request.
    /// </summary>
    public async Task<Actor> ActorAsync(ClaimsPrincipal user, Guid machineId, string origin, CancellationToken ct)
    {
        var linked = user.FindAll(ReimageClaimsFactory.TechnicianClaim).Select(c => Guid.TryParse(c.Value, out var id) ? id : Guid.Empty).ToArray();
        string? person = null;
        if (linked.Length > 0)
        {
            await using var command = db.CreateCommand(
                """
                SELECT t.name FROM reimage.technicians t
                LEFT JOIN reimage.machines m ON m.id = @machine AND m.site_id = t.site_id
                WHERE t.id = ANY(@linked) ORDER BY (m.id IS NOT NULL) DESC, t.name LIMIT 1
                """);
            command.Parameters.AddWithValue("machine", machineId);
            command.Parameters.AddWithValue("linked", linked);
            person = await command.ExecuteScalarAsync(ct) as string;
        }

        return new Actor(user.Identity?.Name ?? throw new InvalidOperationException("hands-on work needs a signed-in account"), origin, person);
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
}
