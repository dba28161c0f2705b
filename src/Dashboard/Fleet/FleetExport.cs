using System.Globalization;
using System.Text;
using Npgsql;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Fleet;

/// <summary>
/// The grid's current filter as CSV, streamed row by row from the database (100,000 machines never sit in memory).
/// A full inventory in the import template's columns (re-importing it changes nothing), then the recovery's
/// read-only columns, which the import skips. Every field goes through <see cref="Field"/>: a host name or owner
/// typed as <c>=HYPERLINK(…)</c> must arrive in a spreadsheet as text, not as a formula.
/// </summary>
public sealed class FleetExport(NpgsqlDataSource db)
{
    public static readonly string[] Header =
    [
        "hostname", "asset_tag", "serial_number", "mac_addresses", "shared_mac_addresses", "ip_address", "site", "building", "floor", "room",
        "department", "owner", "role", "criticality", "model", "disk_type", "bmc_address", "image_profile", "recovery_path",
        "wave", "state", "step", "attempt", "state_changed_at", "failure_reason",
    ];

    public async Task WriteAsync(FleetFilter filter, TextWriter output, CancellationToken ct)
    {
        await output.WriteAsync(string.Join(',', Header) + "\r\n");
        await using var command = db.CreateCommand();
        var where = FleetQuery.Where(filter, command);
        command.CommandText =
            $"""
            SELECT m.hostname, m.asset_tag, m.serial_number, array_to_string(m.mac_addresses, ' '), array_to_string(m.shared_mac_addresses, ' '),
                   m.ip_address, s.code, m.building, m.floor, m.room, m.department, m.owner, m.role, m.criticality, m.model, m.disk_type,
                   m.bmc_address, m.image_profile, r.path, w.name, r.state, r.step, r.attempt, r.state_changed_at, r.failure_reason
            FROM reimage.machines m
            JOIN reimage.recoveries r ON r.machine_id = m.id
            JOIN reimage.sites s ON s.id = m.site_id
            LEFT JOIN reimage.waves w ON w.id = r.wave_id
            {where}
            ORDER BY m.hostname_key
            """;
        await using var reader = await command.ExecuteReaderAsync(ct);
        var line = new StringBuilder();
        var rows = 0;
        while (await reader.ReadAsync(ct))
        {
            line.Clear();
            for (var i = 0; i < reader.FieldCount; i++)
            {
                var value = reader.IsDBNull(i) ? null : reader.GetValue(i) switch
                {
                    DateTime at => at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                    IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
                    var other => other.ToString(),
                };
                line.Append(i == 0 ? "" : ",").Append(Field(value));
            }

            await output.WriteAsync(line.Append("\r\n").ToString());
            if (++rows % 1000 == 0)
            {
                await output.FlushAsync(ct);
            }
        }
    }

    /// <summary>
    /// One CSV field: a value starting with a formula trigger (<c>= + - @</c>, tab or carriage return) gets a leading
    /// <c>'</c> so spreadsheets show it as text (the import takes it off again); a value holding a comma, quote or line
    /// break is quoted (quotes doubled).
    /// </summary>
    public static string Field(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    /// <summary>Reads the grid's filter from a query string; null and a message when a part is not valid.</summary>
    public static (FleetFilter? Filter, string? Error) Parse(string? site, string? state, string? text)
    {
        Guid? siteId = null;
        if (!string.IsNullOrEmpty(site))
        {
            if (!Guid.TryParse(site, out var id))
            {
                return (null, "site must be a site id");
            }

            siteId = id;
        }

        RecoveryState? recoveryState = null;
        if (!string.IsNullOrEmpty(state))
        {
            if (!Enum.TryParse<RecoveryState>(state, ignoreCase: true, out var s) || !Enum.IsDefined(s) || int.TryParse(state, out _))
            {
                return (null, $"state must be one of: {string.Join(", ", Enum.GetNames<RecoveryState>())}");
            }

            recoveryState = s;
        }

        return text is { Length: > 200 } ? (null, "text is at most 200 characters") : (new FleetFilter(siteId, recoveryState, text), null);
    }
}
