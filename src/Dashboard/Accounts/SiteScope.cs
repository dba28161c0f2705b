using System.Security.Claims;
using Npgsql;

namespace Reimage.Dashboard.Accounts;

/// <summary>
/// A technician acts only on machines of their own sites; leads and admins act anywhere. Checked by the endpoints
/// that technicians may call, after the role policy let them in.
/// </summary>
public sealed class SiteScope(NpgsqlDataSource db)
{
    public static bool Unrestricted(ClaimsPrincipal user) => user.IsInRole(Roles.Lead) || user.IsInRole(Roles.Admin);

    /// <summary>The site codes <paramref name="user"/> is limited to (upper case); null when they may act at every site.</summary>
    public static string[]? SitesOf(ClaimsPrincipal user) =>
        Unrestricted(user) ? null : [.. user.FindAll(ReimageClaimsFactory.SiteClaim).Select(c => c.Value)];

    /// <summary>Whether <paramref name="user"/> may act at the site with this code.</summary>
    public static bool MayActAtSite(ClaimsPrincipal user, string siteCode) =>
        Unrestricted(user) || user.HasClaim(ReimageClaimsFactory.SiteClaim, siteCode.Trim().ToUpperInvariant());

    /// <summary>The code of the site a roster entry works at; null when there is no such technician.</summary>
    public async Task<string?> SiteOfTechnicianAsync(Guid technicianId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(TechnicianSite);
        command.Parameters.AddWithValue("id", technicianId);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>True when <paramref name="user"/> may act on the machine; also true for a machine that does not exist (its endpoint answers 404).</summary>
    public Task<bool> MayActOnMachineAsync(ClaimsPrincipal user, Guid machineId, CancellationToken ct) =>
        MayActAsync(user, "SELECT s.code FROM reimage.machines m JOIN reimage.sites s ON s.id = m.site_id WHERE m.id = @id", machineId, ct);

    public Task<bool> MayActOnEvidenceAsync(ClaimsPrincipal user, Guid evidenceId, CancellationToken ct) =>
        MayActAsync(user, "SELECT s.code FROM reimage.evidence_items e JOIN reimage.machines m ON m.id = e.machine_id JOIN reimage.sites s ON s.id = m.site_id WHERE e.id = @id", evidenceId, ct);

    public Task<bool> MayActOnTechnicianAsync(ClaimsPrincipal user, Guid technicianId, CancellationToken ct) =>
        MayActAsync(user, TechnicianSite, technicianId, ct);

    private const string TechnicianSite = "SELECT s.code FROM reimage.technicians t JOIN reimage.sites s ON s.id = t.site_id WHERE t.id = @id";

    private async Task<bool> MayActAsync(ClaimsPrincipal user, string sql, Guid id, CancellationToken ct)
    {
        if (Unrestricted(user))
        {
            return true;
        }

        await using var command = db.CreateCommand(sql);
        command.Parameters.AddWithValue("id", id);
        return await command.ExecuteScalarAsync(ct) is not string code || MayActAtSite(user, code);
    }

    /// <summary>The answer for a technician reaching outside their sites.</summary>
    public static IResult OutsideYourSites() =>
        Results.Json(new { error = "this machine is not at one of your sites" }, statusCode: StatusCodes.Status403Forbidden);
}
