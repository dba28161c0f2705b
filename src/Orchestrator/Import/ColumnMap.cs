namespace Reimage.Orchestrator.Import;

/// <summary>Where a template column's value comes from in this file.</summary>
internal sealed record ColumnSource(int Index, string Header, ValueShape Shape);

/// <summary>
/// The file's header resolved against the template and its aliases: for each template column the file columns
/// that can supply it (best first), the columns used only as hints, and the columns ignored.
/// </summary>
internal sealed class ColumnMap
{
    private readonly ColumnSource[][] _sources;

    private ColumnMap(ColumnSource[][] sources, int operatingSystem, int distinguishedName, int location, IReadOnlyList<string> ignored, string format)
    {
        _sources = sources;
        LocationIndex = location;
        OperatingSystemIndex = operatingSystem;
        DistinguishedNameIndex = distinguishedName;
        Ignored = ignored;
        Format = format;
    }

    public int OperatingSystemIndex { get; }

    public int DistinguishedNameIndex { get; }

    /// <summary>Active Directory's free-text <c>Location</c> column, read for the site rules; -1 when absent.</summary>
    public int LocationIndex { get; }

    public IReadOnlyList<string> Ignored { get; }

    public string Format { get; }

    public ReadOnlySpan<ColumnSource> Sources(ImportField field) => _sources[(int)field];

    public bool Has(ImportField field) => _sources[(int)field].Length > 0;

    /// <summary>The header to name in an issue about <paramref name="field"/> when no particular file column supplied it.</summary>
    public string HeaderFor(ImportField field) =>
        Has(field) ? _sources[(int)field][0].Header : ImportColumns.All[(int)field].Name;

    public static ColumnMap Resolve(IReadOnlyList<string> headers, bool activeDirectoryTypeLine)
    {
        var normalised = headers.Select(ImportColumns.Normalise).ToArray();
        var used = new bool[headers.Count];
        var sources = new ColumnSource[ImportColumns.All.Length][];
        foreach (var column in ImportColumns.All)
        {
            var found = new List<ColumnSource>();
            foreach (var (alias, shape) in column.Aliases)
            {
                for (var i = 0; i < normalised.Length; i++)
                {
                    // A header that already feeds one template column must not feed another (AD's "Name" vs "user").
                    if (!used[i] && normalised[i] == alias)
                    {
                        found.Add(new ColumnSource(i, headers[i], shape));
                        used[i] = true;
                    }
                }
            }

            sources[(int)column.Field] = [.. found];
        }

        var operatingSystem = Array.IndexOf(normalised, ImportColumns.OperatingSystemHeader);
        if (operatingSystem < 0)
        {
            operatingSystem = Array.IndexOf(normalised, "os");
        }

        var distinguishedName = Array.IndexOf(normalised, ImportColumns.DistinguishedNameHeader);
        var location = Array.IndexOf(normalised, "location");
        var ignored = headers.Where((h, i) => !used[i] && i != operatingSystem && i != distinguishedName && i != location
            && !ImportColumns.ExportOnlyHeaders.Contains(normalised[i])).ToList();
        return new ColumnMap(sources, operatingSystem, distinguishedName, location, ignored, DetectFormat(normalised, activeDirectoryTypeLine));
    }

    private static string DetectFormat(string[] headers, bool activeDirectoryTypeLine)
    {
        if (activeDirectoryTypeLine || headers.Contains("distinguishedname") || headers.Contains("dnshostname") || headers.Contains("samaccountname"))
        {
            return "Active Directory export";
        }

        string[] configurationManager = ["primaryusers", "topconsoleuser", "clienttype", "sitecode", "client", "clientactivity"];
        if (headers.Any(configurationManager.Contains))
        {
            return "Configuration Manager export";
        }

        return headers.Contains("hostname") ? "Reimage template" : "CSV with recognised headers";
    }
}
