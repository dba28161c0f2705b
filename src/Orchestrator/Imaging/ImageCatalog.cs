using Npgsql;

namespace Reimage.Orchestrator.Imaging;

public sealed record ImageView(Guid Id, string Name, string Version, string Sha256, string CreatedBy, DateTimeOffset CreatedAt, string? ApprovedBy, DateTimeOffset? ApprovedAt);

/// <summary>The catalog of golden images: added by a lead, approved (who and when) before machines may be verified against them.</summary>
public sealed class ImageCatalog(NpgsqlDataSource db, TimeProvider clock)
{
    /// <summary>Adds an image version; false when that name and version already exist (nothing changes).</summary>
    public async Task<(bool Added, Guid Id)> AddAsync(string name, string version, string sha256, string by, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        await using var insert = db.CreateCommand(
            """
            INSERT INTO reimage.golden_images (id, name, version, sha256, created_by, created_at) VALUES (@id, @name, @version, @sha, @by, @now)
            ON CONFLICT (name, version) DO NOTHING
            """);
        insert.Parameters.AddWithValue("id", id);
        insert.Parameters.AddWithValue("name", name);
        insert.Parameters.AddWithValue("version", version);
        insert.Parameters.AddWithValue("sha", sha256.ToLowerInvariant());
        insert.Parameters.AddWithValue("by", by);
        insert.Parameters.AddWithValue("now", clock.GetUtcNow());
        return (await insert.ExecuteNonQueryAsync(ct) == 1, id);
    }

    /// <summary>Approves an image; null when it does not exist, false when it was approved already.</summary>
    public async Task<bool?> ApproveAsync(Guid id, string by, CancellationToken ct)
    {
        await using var approve = db.CreateCommand(
            "UPDATE reimage.golden_images SET approved_by = @by, approved_at = @now WHERE id = @id AND approved_at IS NULL RETURNING 1");
        approve.Parameters.AddWithValue("id", id);
        approve.Parameters.AddWithValue("by", by);
        approve.Parameters.AddWithValue("now", clock.GetUtcNow());
        if (await approve.ExecuteScalarAsync(ct) is not null)
        {
            return true;
        }

        await using var exists = db.CreateCommand("SELECT 1 FROM reimage.golden_images WHERE id = @id");
        exists.Parameters.AddWithValue("id", id);
        return await exists.ExecuteScalarAsync(ct) is null ? null : false;
    }

    public async Task<IReadOnlyList<ImageView>> ListAsync(CancellationToken ct)
    {
        await using var select = db.CreateCommand("SELECT id, name, version, sha256, created_by, created_at, approved_by, approved_at FROM reimage.golden_images ORDER BY name, created_at DESC");
        var images = new List<ImageView>();
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            images.Add(new ImageView(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7)));
        }

        return images;
    }

    /// <summary>
    /// For machines about to pass verification: the reason each one must not, when its image profile has an approved
    /// image and what it attested at first boot is not the newest approved version. Machines whose profile has no
    /// approved image are not checked (approve an image to enforce it).
    /// </summary>
    internal static async Task<Dictionary<Guid, string>> MismatchesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid[] machineIds, CancellationToken ct)
    {
        await using var select = new NpgsqlCommand(
            """
            SELECT m.id, g.name, g.version, g.sha256, ir.image_sha256, ir.image_id, ir.image_version
            FROM reimage.machines m
            JOIN LATERAL (SELECT name, version, sha256 FROM reimage.golden_images
                          WHERE name = m.image_profile AND approved_at IS NOT NULL ORDER BY approved_at DESC LIMIT 1) g ON true
            LEFT JOIN reimage.imaging_reports ir ON ir.machine_id = m.id
            WHERE m.id = ANY(@ids) AND ir.image_sha256 IS DISTINCT FROM g.sha256
            """, connection, transaction);
        select.Parameters.AddWithValue("ids", machineIds);
        var reasons = new Dictionary<Guid, string>();
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var approved = $"{reader.GetString(1)} {reader.GetString(2)} (sha256 {reader.GetString(3)[..12]}…)";
            reasons[reader.GetGuid(0)] = reader.IsDBNull(4)
                ? $"no first-boot attestation of the approved image {approved}"
                : $"attested image {reader.GetValue(5)} {reader.GetValue(6)} (sha256 {reader.GetString(4)[..12]}…) is not the approved {approved}";
        }

        return reasons;
    }
}
