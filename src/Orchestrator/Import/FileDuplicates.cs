namespace Reimage.Orchestrator.Import;

/// <summary>
/// Rows of one file that claim the same machine or the same hardware. The upsert key is the hostname, so two
/// rows with one hostname would silently overwrite each other; a serial or a MAC on two rows means one of
/// them is wrong, and imaging would boot the wrong machine.
/// </summary>
internal static class FileDuplicates
{
    public static void Find(List<StagedMachine> rows, ColumnMap map, List<ImportIssue> errors)
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
                    errors.Add(new ImportIssue(row.Line, macColumn,
                        $"MAC address {mac} is also on line {first.Line} ({first.Hostname}): lines {first.Line} and {row.Line} cannot both have it"));
                }
            }
        }
    }
}
