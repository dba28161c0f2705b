using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Reimage.Orchestrator.Evidence;

/// <summary>
/// Puts evidence into the machines' audit chains: each evidence item and each custody transfer is sealed by an event
/// of its machine's chain whose detail names the row and carries the SHA-256 of the row's fields in a canonical form
/// (<c>byte-length:value|</c> per field, <c>-|</c> for null; times UTC to the microsecond). The writers compute the seal
/// in SQL (<see cref="ItemSql"/>, <see cref="TransferSql"/>) in the statement that writes the row; the verifier
/// recomputes it here from the rows as they are now, so an edited, added or deleted row is caught.
/// </summary>
public static class EvidenceSeal
{
    public const string ItemKind = "evidence";
    public const string TransferKind = "custody";

    /// <summary>The event detail sealing the evidence item row <paramref name="e"/> (an alias of <c>evidence_items</c>).</summary>
    public static string ItemSql(string e) =>
        $"'evidence item ' || {e}.id::text || ' sha256:' || encode(sha256(convert_to({e}.id::text || '|' || {e}.machine_id::text || '|' || "
        + string.Join(" || ", new[]
        {
            $"{e}.drive_serial", $"{e}.drive_model", $"{e}.hostname", $"array_to_string({e}.mac_addresses, ' ')", $"{e}.ip_address",
            $"{e}.evidence_bag_id", $"{e}.seal_id", $"{e}.collected_by", Time($"{e}.collected_at"), $"{e}.time_zone", $"{e}.storage_location", $"{e}.case_number",
        }.Select(f => $"reimage.hash_field({f})"))
        + ", 'UTF8')), 'hex')";

    /// <summary>The event detail sealing the custody transfer row <paramref name="t"/> (an alias of <c>custody_transfers</c>).</summary>
    public static string TransferSql(string t) =>
        $"'custody transfer ' || {t}.id::text || ' sha256:' || encode(sha256(convert_to({t}.id::text || '|' || {t}.evidence_item_id::text || '|' || "
        + string.Join(" || ", new[]
        {
            $"{t}.\"from\"", $"{t}.\"to\"", $"{t}.to_account", $"{t}.entered_by", $"{t}.location", Time($"{t}.at"), $"{t}.time_zone", $"{t}.note",
        }.Select(f => $"reimage.hash_field({f})"))
        + ", 'UTF8')), 'hex')";

    /// <summary>What a seal line names ("evidence item &lt;id&gt;", "custody transfer &lt;id&gt;"), without its hash.</summary>
    public static string NameOf(string sealLine) => sealLine[..Math.Max(0, sealLine.IndexOf(" sha256:", StringComparison.Ordinal))];

    /// <summary>The seal of an evidence item as the verifier recomputes it.</summary>
    public static string Item(EvidenceItem e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return $"evidence item {e.Id} sha256:" + Sha(e.Id + "|" + e.MachineId + "|", e.DriveSerial, e.DriveModel, e.Hostname, string.Join(' ', e.MacAddresses),
            e.IpAddress, e.EvidenceBagId, e.SealId, e.CollectedBy, Time(e.CollectedAt), e.TimeZone, e.StorageLocation, e.CaseNumber);
    }

    /// <summary>The seal of a custody transfer as the verifier recomputes it.</summary>
    public static string Transfer(CustodyTransfer t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return $"custody transfer {t.Id} sha256:" + Sha(t.Id.ToString(CultureInfo.InvariantCulture) + "|" + t.EvidenceItemId + "|",
            t.From, t.To, t.ToAccount, t.EnteredBy, t.Location, Time(t.At), t.TimeZone, t.Note);
    }

    private static string Time(string column) => $"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static string Sha(string prefix, params string?[] fields)
    {
        var text = new StringBuilder(prefix);
        foreach (var field in fields)
        {
            text.Append(field is null ? "-" : $"{Encoding.UTF8.GetByteCount(field)}:{field}").Append('|');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
