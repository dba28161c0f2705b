using System.Text.RegularExpressions;
using Npgsql;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Imaging;

/// <summary>What a task sequence attests about the machine at its first boot.</summary>
public sealed record Attestation(string? OsBuild, string? ImageId, string? ImageVersion, string? ImageSha256, string? Hostname, string? Domain, string? SecurityAgent);

/// <summary>One event from an imaging task sequence (MDT, Configuration Manager, WinPE, FOG).</summary>
/// <remarks>
/// <see cref="EventId"/> names the event itself: the scripts make one per event and send it again on their own retries
/// (and a task sequence's failure step run twice reuses it), so that the server records each event once.
/// </remarks>
public sealed record PhoneHomeEvent(string? Serial, string? Mac, string? Event, int? Percent, DateTimeOffset? Timestamp, string? Detail, Attestation? Attestation,
    string? EventId = null);

public enum PhoneHomeOutcome
{
    Accepted,
    Ignored,
    UnknownMachine,
}

/// <summary>
/// Takes phone-home events for one site. The machine is found by serial or MAC among that site's machines only (a
/// token of one site cannot touch another's). An event moves the machine's imaging report forward only: a replay, an
/// event older than the current imaging attempt, or one that arrives after a later phase is acknowledged and ignored.
/// First boot completes the imaging step, failure fails it (or the boot step, when it arrives before imaging started),
/// both through the step's agent command so the workflow pump applies them like any agent result (retries, timeouts and
/// the audit chain included). An event with an id is recorded once per site: a replay (the script's own retry after a
/// lost answer, the failure step run twice) gets the first answer and changes nothing. A <c>failed</c> without an id
/// must not be older than the current attempt at all (no clock allowance): a late copy of the last attempt's failure
/// must not fail the next one.
/// </summary>
public sealed partial class PhoneHome(NpgsqlDataSource db, WorkflowKick kick, TimeProvider clock)
{
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>Field errors, by JSON field name; empty when the event may be processed.</summary>
    public static Dictionary<string, string[]> Validate(PhoneHomeEvent e)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(e.Serial) && string.IsNullOrWhiteSpace(e.Mac))
        {
            errors["serial"] = ["the machine's serial number or a MAC address is required"];
        }

        if (e.Serial?.Length > 64)
        {
            errors["serial"] = ["at most 64 characters"];
        }

        if (e.Mac is not null && NormalisedMac(e.Mac) is null)
        {
            errors["mac"] = ["a MAC address such as AA:BB:CC:DD:EE:FF"];
        }

        if (ParsePhase(e.Event) is null)
        {
            errors["event"] = ["one of: started, progress, applied, first-boot, failed"];
        }

        if (e.EventId is not null && !EventIdPattern().IsMatch(e.EventId))
        {
            errors["eventId"] = ["1 to 64 letters, digits or . _ : - (one per event, the same on every retry of it)"];
        }

        if (e.Percent is < 0 or > 100)
        {
            errors["percent"] = ["between 0 and 100"];
        }

        if (e.Detail?.Length > 500)
        {
            errors["detail"] = ["at most 500 characters"];
        }

        if (e.Attestation?.ImageSha256 is { } sha && !IsSha256(sha))
        {
            errors["attestation.imageSha256"] = ["64 hexadecimal characters"];
        }

        foreach (var (field, value) in new[] { ("osBuild", e.Attestation?.OsBuild), ("imageId", e.Attestation?.ImageId), ("imageVersion", e.Attestation?.ImageVersion),
            ("hostname", e.Attestation?.Hostname), ("securityAgent", e.Attestation?.SecurityAgent) })
        {
            if (value?.Length > 64)
            {
                errors["attestation." + field] = ["at most 64 characters"];
            }
        }

        if (e.Attestation?.Domain?.Length > 255)
        {
            errors["attestation.domain"] = ["at most 255 characters"];
        }

        return errors;
    }

    public static ImagingPhase? ParsePhase(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "started" => ImagingPhase.Started,
        "progress" => ImagingPhase.Progress,
        "applied" => ImagingPhase.Applied,
        "first-boot" or "firstboot" => ImagingPhase.FirstBoot,
        "failed" => ImagingPhase.Failed,
        _ => null,
    };

    public async Task<(PhoneHomeOutcome Outcome, string Message)> ReportAsync(Guid siteId, PhoneHomeEvent e, CancellationToken ct, Guid? tokenId = null)
    {
        var eventId = e.EventId?.Trim();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (eventId is not null && await ReceiptAsync(connection, transaction, siteId, eventId, ct) is { } first)
        {
            return first;
        }

        var (outcome, message, completes) = await ApplyAsync(connection, transaction, siteId, e, tokenId, ct);
        if (eventId is not null)
        {
            // Under the machine's lock now: a twin sent at the same moment either committed first (its answer stands) or waits for us.
            await using var record = new NpgsqlCommand(
                """
                INSERT INTO reimage.phone_home_receipts (site_id, event_id, outcome, message, received_at, token_id) VALUES (@site, @id, @outcome, @message, @now, @token)
                ON CONFLICT (site_id, event_id) DO NOTHING
                """, connection, transaction);
            record.Parameters.AddWithValue("site", siteId);
            record.Parameters.AddWithValue("id", eventId);
            record.Parameters.AddWithValue("outcome", outcome.ToString());
            record.Parameters.AddWithValue("message", message);
            record.Parameters.AddWithValue("now", clock.GetUtcNow());
            record.Parameters.AddWithValue("token", (object?)tokenId ?? DBNull.Value);
            if (await record.ExecuteNonQueryAsync(ct) == 0)
            {
                await transaction.RollbackAsync(ct);
                await using var again = await db.OpenConnectionAsync(ct);
                return await ReceiptAsync(again, null, siteId, eventId, ct) ?? (outcome, message);
            }
        }

        await transaction.CommitAsync(ct);
        if (completes)
        {
            kick.Kick();
        }

        return (outcome, message);
    }

    /// <summary>The answer an event id already got at this site, as it was given.</summary>
    private static async Task<(PhoneHomeOutcome, string)?> ReceiptAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid siteId, string eventId, CancellationToken ct)
    {
        await using var select = new NpgsqlCommand("SELECT outcome, message FROM reimage.phone_home_receipts WHERE site_id = @site AND event_id = @id", connection, transaction);
        select.Parameters.AddWithValue("site", siteId);
        select.Parameters.AddWithValue("id", eventId);
        await using var reader = await select.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (Enum.Parse<PhoneHomeOutcome>(reader.GetString(0)), reader.GetString(1)) : null;
    }

    private async Task<(PhoneHomeOutcome Outcome, string Message, bool Completes)> ApplyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid siteId, PhoneHomeEvent e, Guid? tokenId, CancellationToken ct)
    {
        var phase = ParsePhase(e.Event) ?? throw new ArgumentException("validate the event first", nameof(e));
        var percent = phase switch { ImagingPhase.Applied or ImagingPhase.FirstBoot => 100, _ => e.Percent ?? 0 };

        Guid machineId;
        string hostname, state;
        string? step;
        int attempt;
        DateTimeOffset? stepStarted;
        await using (var find = new NpgsqlCommand(
            """
            SELECT m.id, m.hostname, r.state, r.step, r.attempt, r.step_started_at
            FROM reimage.machines m JOIN reimage.recoveries r ON r.machine_id = m.id
            WHERE m.site_id = @site AND (lower(m.serial_number) = lower(@serial)
                OR (m.mac_addresses @> ARRAY[@mac]::text[] AND NOT m.shared_mac_addresses @> ARRAY[@mac]::text[]))
            ORDER BY (lower(m.serial_number) = lower(@serial)) DESC NULLS LAST
            LIMIT 1
            FOR UPDATE OF r
            """, connection, transaction))
        {
            find.Parameters.AddWithValue("site", siteId);
            find.Parameters.AddWithValue("serial", (object?)e.Serial?.Trim() ?? DBNull.Value);
            find.Parameters.AddWithValue("mac", (object?)NormalisedMac(e.Mac) ?? DBNull.Value);
            await using var reader = await find.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return (PhoneHomeOutcome.UnknownMachine, "no machine with that serial or MAC at this token's site", false);
            }

            (machineId, hostname, state, step, attempt) = (reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt32(4));
            stepStarted = reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5);
        }

        var booting = step is nameof(Step.NetworkBoot) or nameof(Step.BmcBoot) or nameof(Step.ManualBoot);
        if (state != nameof(RecoveryState.InProgress) || stepStarted is null
            || !(step == nameof(Step.Imaging) || (booting && (phase < ImagingPhase.Applied || phase == ImagingPhase.Failed))))
        {
            return (PhoneHomeOutcome.Ignored, $"ignored: {hostname} is {state}{(step is null ? "" : $" at {step}")}, not imaging", false);
        }

        var allowance = phase == ImagingPhase.Failed && e.EventId is null ? TimeSpan.Zero : ClockSkew;
        if (e.Timestamp is { } at && at < stepStarted - allowance)
        {
            return (PhoneHomeOutcome.Ignored, "ignored: the event is older than the machine's current imaging attempt (a replay)", false);
        }

        // What was reported before, to keep the history to one progress event per 10 % step of an attempt.
        (string Phase, int Percent, DateTimeOffset Started)? before = null;
        await using (var previous = new NpgsqlCommand("SELECT phase, percent, step_started_at FROM reimage.imaging_reports WHERE machine_id = @id", connection, transaction))
        {
            previous.Parameters.AddWithValue("id", machineId);
            await using var reader = await previous.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                before = (reader.GetString(0), reader.GetInt32(1), reader.GetFieldValue<DateTimeOffset>(2));
            }
        }

        // Upsert only forwards: a new attempt (a later step start) replaces the report; within an attempt the phase and progress may only grow.
        await using (var upsert = new NpgsqlCommand(
            """
            INSERT INTO reimage.imaging_reports AS ir (machine_id, step_started_at, phase, percent, reported_at, detail,
                os_build, image_id, image_version, image_sha256, attested_hostname, attested_domain, security_agent, token_id)
            VALUES (@id, @started, @phase, @percent, @now, @detail, @os, @image, @version, @sha, @host, @domain, @agent, @token)
            ON CONFLICT (machine_id) DO UPDATE SET step_started_at = excluded.step_started_at, phase = excluded.phase, percent = excluded.percent,
                reported_at = excluded.reported_at, detail = excluded.detail, token_id = excluded.token_id,
                os_build = coalesce(excluded.os_build, CASE WHEN ir.step_started_at = excluded.step_started_at THEN ir.os_build END),
                image_id = coalesce(excluded.image_id, CASE WHEN ir.step_started_at = excluded.step_started_at THEN ir.image_id END),
                image_version = coalesce(excluded.image_version, CASE WHEN ir.step_started_at = excluded.step_started_at THEN ir.image_version END),
                image_sha256 = coalesce(excluded.image_sha256, CASE WHEN ir.step_started_at = excluded.step_started_at THEN ir.image_sha256 END),
                attested_hostname = coalesce(excluded.attested_hostname, CASE WHEN ir.step_started_at = excluded.step_started_at THEN ir.attested_hostname END),
                attested_domain = coalesce(excluded.attested_domain, CASE WHEN ir.step_started_at = excluded.step_started_at THEN ir.attested_domain END),
                security_agent = coalesce(excluded.security_agent, CASE WHEN ir.step_started_at = excluded.step_started_at THEN ir.security_agent END)
            WHERE ir.step_started_at < excluded.step_started_at
               OR (ir.step_started_at = excluded.step_started_at AND ir.phase <> 'Failed'
                   AND (CASE ir.phase WHEN 'Started' THEN 1 WHEN 'Progress' THEN 2 WHEN 'Applied' THEN 3 WHEN 'FirstBoot' THEN 4 ELSE 5 END, ir.percent)
                     < (@rank, excluded.percent))
            """, connection, transaction))
        {
            upsert.Parameters.AddWithValue("id", machineId);
            upsert.Parameters.AddWithValue("started", stepStarted.Value);
            upsert.Parameters.AddWithValue("phase", phase.ToString());
            upsert.Parameters.AddWithValue("rank", (int)phase);
            upsert.Parameters.AddWithValue("percent", percent);
            upsert.Parameters.AddWithValue("now", clock.GetUtcNow());
            upsert.Parameters.AddWithValue("detail", (object?)e.Detail?.Trim() ?? DBNull.Value);
            var a = e.Attestation;
            upsert.Parameters.AddWithValue("os", (object?)a?.OsBuild ?? DBNull.Value);
            upsert.Parameters.AddWithValue("image", (object?)a?.ImageId ?? DBNull.Value);
            upsert.Parameters.AddWithValue("version", (object?)a?.ImageVersion ?? DBNull.Value);
            upsert.Parameters.AddWithValue("sha", (object?)a?.ImageSha256?.ToLowerInvariant() ?? DBNull.Value);
            upsert.Parameters.AddWithValue("host", (object?)a?.Hostname ?? DBNull.Value);
            upsert.Parameters.AddWithValue("domain", (object?)a?.Domain ?? DBNull.Value);
            upsert.Parameters.AddWithValue("agent", (object?)a?.SecurityAgent ?? DBNull.Value);
            upsert.Parameters.AddWithValue("token", (object?)tokenId ?? DBNull.Value);
            if (await upsert.ExecuteNonQueryAsync(ct) == 0)
            {
                return (PhoneHomeOutcome.Ignored, $"ignored: {hostname} already reported this or a later phase (a replay or out of order)", false);
            }
        }

        // The report is history too: an event of the machine's chain (progress: at most one per 10 % step of an attempt).
        var sameDecile = phase == ImagingPhase.Progress && before is { } b && b.Started == stepStarted.Value && b.Phase == nameof(ImagingPhase.Progress)
            && b.Percent / 10 == percent / 10;
        if (!sameDecile)
        {
            var said = $"phone-home {phase}{(phase == ImagingPhase.Progress ? $" {percent} %" : "")}{(string.IsNullOrWhiteSpace(e.Detail) ? "" : $": {e.Detail.Trim()}")}"
                + (e.Attestation is { } att && phase == ImagingPhase.FirstBoot ? $" (image {att.ImageId} {att.ImageVersion}, build {att.OsBuild}, host {att.Hostname})" : "");
            await using var history = new NpgsqlCommand(
                $"""
                WITH entries AS (
                    SELECT @id::uuid AS machine_id, 'imaging'::text AS kind, NULL::text AS from_state, NULL::text AS to_state, @step::text AS step,
                        @said::text AS detail, NULL::text AS time_zone),
                {Audit.AuditChain.Append("entries")}
                SELECT count(*) FROM appended
                """, connection, transaction);
            history.Parameters.AddWithValue("id", machineId);
            history.Parameters.AddWithValue("step", step!);
            history.Parameters.AddWithValue("said", said.Length > 1000 ? said[..1000] : said);
            history.Parameters.AddWithValue("now", clock.GetUtcNow());
            history.Parameters.AddWithValue("actor", "phone-home");
            history.Parameters.AddWithValue("origin", tokenId is { } token ? $"phone-home token {token}" : "phone-home");
            await history.ExecuteScalarAsync(ct);
        }

        // First boot or failure completes the imaging step; a failure reported while still at the boot step fails that step.
        var completes = (step == nameof(Step.Imaging) && phase is ImagingPhase.FirstBoot or ImagingPhase.Failed) || (booting && phase == ImagingPhase.Failed);
        if (completes)
        {
            var detail = phase == ImagingPhase.Failed
                ? $"{(booting ? "failed before imaging started" : "imaging failed")} (phone-home): {e.Detail?.Trim() ?? "no detail"}"
                : $"first boot (phone-home): image {e.Attestation?.ImageId} {e.Attestation?.ImageVersion}, build {e.Attestation?.OsBuild}";
            await using var complete = new NpgsqlCommand(
                """
                UPDATE reimage.agent_commands SET status = 'Completed', succeeded = @ok, detail = left(@detail, 2000), completed_at = @now
                WHERE machine_id = @id AND step = @step AND attempt = @attempt AND status IN ('Pending', 'Leased')
                """, connection, transaction);
            complete.Parameters.AddWithValue("id", machineId);
            complete.Parameters.AddWithValue("step", step!);
            complete.Parameters.AddWithValue("attempt", attempt);
            complete.Parameters.AddWithValue("ok", phase == ImagingPhase.FirstBoot);
            complete.Parameters.AddWithValue("detail", detail);
            complete.Parameters.AddWithValue("now", clock.GetUtcNow());
            await complete.ExecuteNonQueryAsync(ct);
        }

        return (PhoneHomeOutcome.Accepted, $"{hostname}: {phase}{(phase == ImagingPhase.Progress ? $" {percent} %" : "")}", completes);
    }

    private static string? NormalisedMac(string? text) =>
        text is not null && Import.MacAddresses.TryNormalise(text.Trim(), out var mac) ? mac : null;

    /// <summary>64 hexadecimal characters: how image hashes are written in the catalog and in attestations.</summary>
    public static bool IsSha256(string text) => Sha256().IsMatch(text);

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex Sha256();

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}$")]
    private static partial Regex EventIdPattern();
}
