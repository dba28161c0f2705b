using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Reimage.Orchestrator.Audit;

/// <summary>
/// How an event is hashed into its machine's chain. Writers hash in SQL with <c>reimage.event_hash</c> (one
/// statement per batch); the verifier recomputes here, independently. Both use the same canonical form:
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
