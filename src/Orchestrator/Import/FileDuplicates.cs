namespace Reimage.Orchestrator.Import;

/// <summary>
/// Rows of one file that claim the same machine or the same hardware. The upsert key is the hostname, so two
/// rows with one hostname would silently overwrite each other; a serial on two rows means one of them is wrong.
/// A MAC on several rows is normal (docks and USB adapters move between machines): a warning naming them, and the
/// MAC is kept on every row as a shared MAC.
/// </summary>
internal static class FileDuplicates
{
    public static void Find(List<StagedMachine> rows, ColumnMap map, List<ImportIssue> errors, List<ImportIssue> warnings)
    {
        var hostnames = new Dictionary<string, StagedMachine>(rows.Count, StringComparer.OrdinalIgnoreCase);
        var serials = new Dictionary<string, StagedMachine>(rows.Count, StringComparer.OrdinalIgnoreCase);
        var macs = new Dictionary<string, StagedMachine>(rows.Count, StringComparer.Ordinal);
        var hostnameColumn = map.HeaderFor(ImportField.Hostname);
        var serialColumn = map.HeaderFor(ImportField.SerialNumber);
        var macColumn = map.HeaderFor(ImportField.MacAddresses);
        foreach (var row in rows)
        {
            if (row.Hostname is { } hostname && !hostnames.TryAdd(hostname, row))
            {
                var first = hostnames[hostname];
                errors.Add(new ImportIssue(row.Line, hostnameColumn,
                    $"hostname \"{hostname}\" is also on line {first.Line} (\"{first.Hostname}\"; hostnames are case-insensitive): lines {first.Line} and {row.Line} are the same machine"));
            }

            if (row.SerialNumber is { } serial && !serials.TryAdd(serial, row))
            {
                var first = serials[serial];
                errors.Add(new ImportIssue(row.Line, serialColumn,
                    $"serial number \"{serial}\" is also on line {first.Line} ({first.Hostname}): lines {first.Line} and {row.Line} cannot both have it"));
            }

            foreach (var mac in row.MacAddresses)
            {
                if (!macs.TryAdd(mac, row))
                {
                    var first = macs[mac];
                    warnings.Add(new ImportIssue(row.Line, macColumn,
                        $"MAC address {mac} is also on line {first.Line} ({first.Hostname}): {MacAddresses.SharedNote}"));
                }
            }
        }
    }
}
