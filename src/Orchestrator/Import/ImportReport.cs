using System.Text;

namespace Reimage.Orchestrator.Import;

/// <summary>
/// How to import. <paramref name="DefaultSite"/>: the site a new machine gets when its row names none (existing
/// machines stay where they are). <paramref name="DryRun"/>: check and report, write nothing.
/// <paramref name="CreateSites"/>: a site code that does not exist yet creates the site (otherwise it is an error,
/// so that a misspelt code cannot quietly create one). <paramref name="ReplaceMacs"/>: a row's MACs replace the
/// machine's instead of being added to them.
/// </summary>
public sealed record ImportOptions(string? DefaultSite = null, bool DryRun = false, bool CreateSites = false, bool ReplaceMacs = false);

/// <summary>One problem with the file. <see cref="Line"/> is the physical line in the file (1-based, counting any
/// <c>#TYPE</c> line and the header); <see cref="Column"/> is the header as written in the file.</summary>
public sealed record ImportIssue(int Line, string Column, string Message)
{
    public override string ToString() =>
        Line > 0 && Column.Length > 0 ? $"line {Line}, column \"{Column}\": {Message}"
        : Line > 0 ? $"line {Line}: {Message}"
        : Column.Length > 0 ? $"column \"{Column}\": {Message}"
        : Message;
}

/// <summary>Where a running import is: its phase, and for <c>checking rows</c> how many rows are done so far.</summary>
public sealed record ImportProgress(string Phase, int Rows);

/// <summary>What a dry run would do to one machine: <c>insert</c> it, or <c>update</c> the listed fields.</summary>
public sealed record MachineChange(int Line, string Hostname, string Action, IReadOnlyList<string> Fields);

/// <summary>
/// The outcome of one import. <see cref="Imported"/> is true only when the rows were committed; a dry run or a
/// file with errors leaves the fleet untouched, and <see cref="Inserted"/>/<see cref="Updated"/> then say what
/// the import would have done.
/// </summary>
public sealed record ImportReport(
    bool Imported,
    bool DryRun,
    int Rows,
    int Inserted,
    int Updated,
    int Unchanged,
    IReadOnlyList<string> SitesCreated,
    IReadOnlyList<ImportIssue> Errors,
    IReadOnlyList<ImportIssue> Warnings,
    string Format,
    string Delimiter,
    string Encoding,
    IReadOnlyDictionary<string, int> FieldsChanged,
    IReadOnlyList<MachineChange> Changes)
{
    /// <summary>Issues listed per section before the rest are only counted, so a hopeless file stays readable.</summary>
    public const int MaxIssuesShown = 1000;

    public string ToText()
    {
        var text = new StringBuilder();
        var outcome = Imported ? "done: the fleet is updated"
            : Errors.Count > 0 ? $"rejected, nothing was written ({Errors.Count} error{Plural(Errors.Count)})"
            : "dry run, nothing was written";
        text.AppendLine($"Import {outcome}.");
        text.AppendLine($"File: {Format}, delimiter {DelimiterName(Delimiter)}, encoding {Encoding}, {Rows} row{Plural(Rows)}.");
        if (Errors.Count == 0)
        {
            var verb = Imported ? "" : "would be ";
            text.AppendLine($"Machines: {Inserted} {verb}inserted, {Updated} {verb}updated, {Unchanged} unchanged.");
            if (FieldsChanged.Count > 0)
            {
                text.AppendLine($"Fields {verb}changed: {string.Join(", ", FieldsChanged.Select(f => $"{f.Key} on {f.Value}"))}.");
            }

            if (SitesCreated.Count > 0)
            {
                text.AppendLine($"Sites {verb}created: {string.Join(", ", SitesCreated)}.");
            }
        }

        AppendIssues(text, "Errors", Errors);
        AppendIssues(text, "Warnings", Warnings);
        return text.ToString();
    }

    private static void AppendIssues(StringBuilder text, string title, IReadOnlyList<ImportIssue> issues)
    {
        if (issues.Count == 0)
        {
            return;
        }

        text.AppendLine($"{title} ({issues.Count}):");
        foreach (var issue in issues.Take(MaxIssuesShown))
        {
            text.Append("  ").AppendLine(issue.ToString());
        }

        if (issues.Count > MaxIssuesShown)
        {
            text.AppendLine($"  … and {issues.Count - MaxIssuesShown} more.");
        }
    }

    /// <summary>A dry run's per-machine changes as CSV (line, hostname, action, fields), for a lead to review before importing.</summary>
    public string ChangesCsv()
    {
        var csv = new StringBuilder("line,hostname,action,fields\r\n");
        foreach (var change in Changes)
        {
            csv.Append(change.Line).Append(',').Append(change.Hostname).Append(',').Append(change.Action)
                .Append(",\"").Append(string.Join(", ", change.Fields)).Append("\"\r\n");
        }

        return csv.ToString();
    }

    /// <summary>Orders issues by line, keeping the order they were found in within a line.</summary>
    internal static void SortByLine(List<ImportIssue> issues)
    {
        var sorted = issues.OrderBy(i => i.Line).ToList();
        issues.Clear();
        issues.AddRange(sorted);
    }

    private static string DelimiterName(string delimiter) => delimiter switch
    {
        "\t" => "tab",
        "" => "none",
        _ => $"\"{delimiter}\"",
    };

    private static string Plural(int count) => count == 1 ? "" : "s";
}
