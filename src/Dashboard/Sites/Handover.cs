using Npgsql;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Sites;

namespace Reimage.Dashboard.Sites;

/// <summary>A hand-over note as shown: for one site (its code) or for everyone (null).</summary>
public sealed record HandoverView(Guid Id, string? Site, string Author, string Text, DateTimeOffset CreatedAt);

/// <summary>Shift hand-over notes: leads write them, the next shift (leads, and technicians for their sites) reads them.</summary>
public sealed class Handover(NpgsqlDataSource db, TimeProvider clock)
{
    /// <summary>Field errors of a new note, by field; empty when it may be saved.</summary>
    public static Dictionary<string, string[]> Errors(string? text)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(text) || text.Trim().Length > HandoverNote.MaxText)
        {
            errors["text"] = [$"what the next shift needs to know, 1 to {HandoverNote.MaxText} characters"];
        }

        return errors;
    }

    /// <summary>Saves a note; null when <paramref name="siteCode"/> names no site.</summary>
    public async Task<HandoverView?> AddAsync(string? siteCode, string author, string text, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            INSERT INTO reimage.handover_notes (id, site_id, author, text, created_at)
            SELECT @id, s.id, @author, @text, @now FROM (SELECT NULL::uuid AS id) nobody
            LEFT JOIN reimage.sites s ON upper(s.code) = upper(@site)
            WHERE @site::text IS NULL OR s.id IS NOT NULL
            """);
        var note = new HandoverView(Guid.CreateVersion7(), siteCode?.Trim().ToUpperInvariant(), author, text.Trim(), clock.GetUtcNow());
        command.Parameters.AddWithValue("id", note.Id);
        command.Parameters.AddWithValue("site", (object?)note.Site ?? DBNull.Value);
        command.Parameters.AddWithValue("author", author);
        command.Parameters.AddWithValue("text", note.Text);
        command.Parameters.AddWithValue("now", note.CreatedAt);
        return await command.ExecuteNonQueryAsync(ct) == 1 ? note : null;
    }

    /// <summary>The newest notes first: every site's (<paramref name="sites"/> null), or those of the given sites and the general ones.</summary>
    public async Task<IReadOnlyList<HandoverView>> ListAsync(string[]? sites, TimeSpan within, int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await Rows.ReadAsync(connection,
            """
            SELECT n.id, s.code, n.author, n.text, n.created_at FROM reimage.handover_notes n LEFT JOIN reimage.sites s ON s.id = n.site_id
            WHERE n.created_at >= @since AND (@all OR n.site_id IS NULL OR upper(s.code) = ANY(@sites))
            ORDER BY n.created_at DESC LIMIT @limit
            """,
            r => new HandoverView(r.GetGuid(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetString(2), r.GetString(3), r.GetFieldValue<DateTimeOffset>(4)), ct,
            ("since", clock.GetUtcNow() - within), ("all", sites is null), ("sites", sites ?? []), ("limit", limit));
    }
}
