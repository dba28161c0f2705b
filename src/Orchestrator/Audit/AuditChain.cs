using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Reimage.Orchestrator.Audit;

/// <summary>
/// The owner of the per-machine audit chains: how an event is hashed into its machine's chain, and the only SQL that
/// appends events and moves chain heads (<see cref="Append"/>, <see cref="Start"/>), which writers embed in their own
/// batch statement so that a batch of any size stays one statement. Writers hash in SQL with <c>reimage.event_hash</c>;
/// the verifier recomputes here, independently. Both use the same canonical form:
/// <c>machine_id|occurred_at (UTC, microseconds)Z|</c> then each text field as <c>byte-length:value|</c>, or
/// <c>-|</c> when null, in the order time zone, actor, origin, kind, from state, to state, step, detail —
/// hashed with SHA-256 after the previous event's hash.
/// </summary>
public static class AuditChain
{
    /// <summary>The SQL twin of <see cref="Hash"/>, installed by a migration.</summary>
    public const string SqlFunctions =
        """
        CREATE OR REPLACE FUNCTION reimage.hash_field(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(octet_length(value)::text || ':' || value, '-') || '|' $$;

        CREATE OR REPLACE FUNCTION reimage.event_hash(prev bytea, machine_id uuid, occurred_at timestamptz, time_zone text, actor text,
            origin text, kind text, from_state text, to_state text, step text, detail text) RETURNS bytea
        LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT sha256(coalesce(prev, ''::bytea) || convert_to(
                machine_id::text || '|' || to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '|'
                || reimage.hash_field(time_zone) || reimage.hash_field(actor) || reimage.hash_field(origin) || reimage.hash_field(kind)
                || reimage.hash_field(from_state) || reimage.hash_field(to_state) || reimage.hash_field(step) || reimage.hash_field(detail),
                'UTF8'))
        $$;
        """;

    /// <summary>
    /// Common table expressions (to follow a caller's own, after a comma) that append one event per row of the caller's
    /// CTE <paramref name="entries"/> to that machine's chain, as one update of its recovery row: the version moves (every
    /// append moves it, so a chain head can never change behind an unchanged version) and the chain head becomes the new
    /// event's hash, together with the caller's own assignments <paramref name="set"/> (each ending in a comma, over the
    /// recovery <c>r</c> and the entry <c>e</c>). An entry whose <paramref name="guard"/> is false (the caller's
    /// compare-and-set) changes and records nothing. The chain head is read in the statement's snapshot, so the caller
    /// must hold the rows (by the version guard or a lock) for the result to chain. Yields <c>appended(machine_id)</c>.
    /// </summary>
    /// <remarks>
    /// <paramref name="entries"/> has the columns <c>machine_id, kind, from_state, to_state, step, detail, time_zone</c>
    /// (null time zone: the machine's site's) plus whatever <paramref name="set"/> and <paramref name="guard"/> read. The
    /// statement binds <c>@now</c>, <c>@actor</c> and <c>@origin</c>.
    /// </remarks>
    public static string Append(string entries, string set = "", string guard = "true") =>
        $"""
        chain_prev AS (
            SELECT e.machine_id, r.chain_head, coalesce(e.time_zone, s.time_zone) AS time_zone
            FROM {entries} e JOIN reimage.recoveries r ON r.machine_id = e.machine_id
            JOIN reimage.machines m ON m.id = e.machine_id JOIN reimage.sites s ON s.id = m.site_id),
        chain_moved AS (
            UPDATE reimage.recoveries r
            SET {set} version = r.version + 1,
                chain_head = {HashOf("p.chain_head", "p.time_zone")}
            FROM {entries} e JOIN chain_prev p ON p.machine_id = e.machine_id
            WHERE r.machine_id = e.machine_id AND ({guard})
            RETURNING r.machine_id, r.chain_head),
        appended AS (
            {InsertEvents} SELECT e.machine_id, @now, p.time_zone, @actor, @origin, e.kind, e.from_state, e.to_state, e.step, e.detail, p.chain_head, mv.chain_head
            FROM chain_moved mv JOIN {entries} e ON e.machine_id = mv.machine_id JOIN chain_prev p ON p.machine_id = mv.machine_id
            RETURNING machine_id)
        """;

    /// <summary>
    /// Common table expressions that start the chains of new machines with the first event of each row of
    /// <paramref name="entries"/> (same columns as for <see cref="Append"/>, with the time zone given). Yields
    /// <c>started(machine_id, hash)</c>: the caller writes each hash as the new recovery record's chain head.
    /// </summary>
    public static string Start(string entries) =>
        $"""
        started AS (
            {InsertEvents} SELECT e.machine_id, @now, e.time_zone, @actor, @origin, e.kind, e.from_state, e.to_state, e.step, e.detail, NULL,
                {HashOf("NULL", "e.time_zone")}
            FROM {entries} e
            RETURNING machine_id, hash)
        """;

    private const string InsertEvents =
        "INSERT INTO reimage.machine_events (machine_id, occurred_at, time_zone, actor, origin, kind, from_state, to_state, step, detail, prev_hash, hash)";

    /// <summary>The hash of entry <c>e</c> chained after <paramref name="prev"/>, in <see cref="Hash"/>'s canonical form.</summary>
    private static string HashOf(string prev, string timeZone) =>
        $"reimage.event_hash({prev}, e.machine_id, @now, {timeZone}, @actor, @origin, e.kind, e.from_state, e.to_state, e.step, e.detail)";

    public static byte[] Hash(
        byte[]? prev, Guid machineId, DateTime occurredAtUtc, string timeZone, string actor, string origin, string kind,
        string? fromState, string? toState, string? step, string? detail)
    {
        var text = new StringBuilder()
            .Append(machineId.ToString("D")).Append('|')
            .Append(occurredAtUtc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)).Append('|');
        foreach (var field in (ReadOnlySpan<string?>)[timeZone, actor, origin, kind, fromState, toState, step, detail])
        {
            text.Append(field is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{Encoding.UTF8.GetByteCount(field)}:{field}")).Append('|');
        }

        var content = Encoding.UTF8.GetBytes(text.ToString());
        var input = new byte[(prev?.Length ?? 0) + content.Length];
        prev?.CopyTo(input, 0);
        content.CopyTo(input, prev?.Length ?? 0);
        return SHA256.HashData(input);
    }
}
