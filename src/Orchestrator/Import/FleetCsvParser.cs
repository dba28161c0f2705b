using System.Buffers;
using System.Globalization;
using CsvHelper;

namespace Reimage.Orchestrator.Import;

/// <summary>Everything learnt from the file before the database is asked anything.</summary>
internal sealed record ParsedFile(
    string Format, string Delimiter, string Encoding, ColumnMap? Columns, List<StagedMachine> Rows, List<ImportIssue> Errors, List<ImportIssue> Warnings);

/// <summary>
/// Reads a fleet CSV with CsvHelper and validates every row in the same pass; then looks for duplicates inside
/// the file. Never throws for bad content: every problem becomes an <see cref="ImportIssue"/>.
/// </summary>
internal static class FleetCsvParser
{
    public static ParsedFile Parse(CsvSource source, TimeProvider clock, CancellationToken ct, Action<int>? rowsChecked = null)
    {
        var errors = new List<ImportIssue>();
        var warnings = new List<ImportIssue>();
        var rows = new List<StagedMachine>();
        var offset = source.SkippedLines;
        var readerOptions = new CsvReaderOptions
        {
            TrackLineNumbers = true,
            TrimWhitespace = true,
            PoolStrings = true,
            AllowLineBreaksInQuotes = true,
            SkipEmptyLines = true,
            // Every structural problem is an error: a row read "as best it could be" is a row whose values may have
            // moved into the wrong columns, and an unclosed quote swallows every row after it.
            OnMalformedRecord = m => errors.Add(new ImportIssue((int)m.LineNumber + offset, "", Malformed(m.Reason))),
        };

        using var reader = CsvReader.Create(source.Utf8Text, readerOptions);
        var headers = reader.Headers;
        var delimiter = headers.Count == 0 ? "," : reader.Separator.ToString();
        if (headers.Count == 0 || headers.All(string.IsNullOrWhiteSpace))
        {
            errors.Add(new ImportIssue(offset + 1, "", "the file has no header row"));
            return new ParsedFile("empty file", delimiter, source.Encoding, null, rows, errors, warnings);
        }

        var headerLine = offset + 1;
        var map = ColumnMap.Resolve(headers, source.ActiveDirectoryTypeLine);
        if (map.Ignored.Count > 0)
        {
            warnings.Add(new ImportIssue(headerLine, "",
                $"ignored {map.Ignored.Count} column{(map.Ignored.Count == 1 ? "" : "s")} not in the template: {string.Join(", ", map.Ignored.Select(h => $"\"{h}\""))}"));
        }

        if (!map.Has(ImportField.Hostname))
        {
            errors.Add(new ImportIssue(headerLine, "",
                "no hostname column: name it \"hostname\" (or Name, ComputerName, DeviceName, DNSHostName)"));
        }

        var validator = new RowValidator(map, errors, warnings, clock);
        var hasControlCharacters = source.Utf8Text.Span.IndexOfAny(ControlBytes) >= 0;
        var values = new string?[ImportColumns.All.Length];
        var supplier = new int[ImportColumns.All.Length];
        while (reader.Read())
        {
            if ((rows.Count & 0xFFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
                rowsChecked?.Invoke(rows.Count);
            }

            var line = (int)reader.LineNumber + offset;
            CheckStructure(reader, headers, line, hasControlCharacters, errors);
            for (var f = 0; f < values.Length; f++)
            {
                (values[f], supplier[f]) = f == (int)ImportField.MacAddresses ? AllValues(reader, map.Sources(ImportField.MacAddresses)) : Value(reader, map.Sources((ImportField)f));
            }

            var operatingSystem = map.OperatingSystemIndex >= 0 ? reader.GetString(map.OperatingSystemIndex) : null;
            var distinguishedName = map.DistinguishedNameIndex >= 0 ? reader.GetString(map.DistinguishedNameIndex) : null;
            var row = validator.Validate(line, values, supplier, operatingSystem, distinguishedName);
            row.DistinguishedName = string.IsNullOrEmpty(distinguishedName) ? null : distinguishedName;
            row.Location = map.LocationIndex >= 0 && reader.GetString(map.LocationIndex) is { Length: > 0 } location ? location : null;
            rows.Add(row);
        }

        FileDuplicates.Find(rows, map, errors, warnings);
        ImportReport.SortByLine(errors);
        ImportReport.SortByLine(warnings);
        return new ParsedFile(map.Format, delimiter, source.Encoding, map, rows, errors, warnings);
    }

    /// <summary>Control bytes that no inventory value contains (tab, CR and LF are allowed: they occur in quoted notes).</summary>
    private static readonly SearchValues<byte> ControlBytes = SearchValues.Create(
        [.. Enumerable.Range(0, 32).Where(b => b is not ('\t' or '\r' or '\n')).Select(b => (byte)b), 0x7F]);

    /// <summary>Field count, cell length and control characters of every cell, ignored columns included.</summary>
    private static void CheckStructure(CsvReader reader, IReadOnlyList<string> headers, int line, bool hasControlCharacters, List<ImportIssue> errors)
    {
        if (reader.FieldCount != headers.Count)
        {
            errors.Add(new ImportIssue(line, "",
                $"the row has {reader.FieldCount} field{(reader.FieldCount == 1 ? "" : "s")} and the header {headers.Count}: " +
                (reader.FieldCount > headers.Count ? "a value holds an unquoted separator, or there is an extra one" : "a separator is missing, or the row is cut short")));
        }

        for (var i = 0; i < reader.FieldCount; i++)
        {
            var header = i < headers.Count ? headers[i] : $"field {i + 1}";
            var raw = reader.GetRawSpan(i);
            if (raw.Length > ImportColumns.MaxCellLength && reader.GetString(i).Length is var length && length > ImportColumns.MaxCellLength)
            {
                errors.Add(new ImportIssue(line, header, string.Create(CultureInfo.InvariantCulture,
                    $"the value is {length:N0} characters long; no cell may be longer than {ImportColumns.MaxCellLength:N0}")));
            }

            if (hasControlCharacters && raw.IndexOfAny(ControlBytes) is var at and >= 0)
            {
                var name = raw[at] == 0 ? "a NUL character" : $"the control character U+{raw[at]:X4}";
                errors.Add(new ImportIssue(line, header, $"the value contains {name}, which no inventory field may hold"));
            }
        }
    }

    private static string Malformed(CsvMalformedReason reason) => reason switch
    {
        CsvMalformedReason.UnterminatedQuote => "a quoted value that starts on this line is never closed, so every line after it would be read into it: close the quote",
        CsvMalformedReason.StrayQuote => "a quote inside an unquoted value: quote the whole value and double the quote inside (\"\")",
        CsvMalformedReason.TextAfterClosingQuote => "text after a closing quote: quote the whole value and double any quote inside it (\"\")",
        CsvMalformedReason.LineBreakInQuotes => "a line break inside a quoted value",
        CsvMalformedReason.FieldCountMismatch => "the row has a different number of fields from the header",
        _ => $"malformed CSV ({reason})",
    };

    /// <summary>The first non-empty value among the file columns that can supply a template column, and which one it was.</summary>
    private static (string? Value, int Source) Value(CsvReader reader, ReadOnlySpan<ColumnSource> sources)
    {
        for (var s = 0; s < sources.Length; s++)
        {
            var raw = reader.GetString(sources[s].Index);
            if (string.IsNullOrEmpty(raw))
            {
                continue;
            }

            var value = Shape(raw, sources[s].Shape);
            if (!string.IsNullOrEmpty(value))
            {
                return (value, s);
            }
        }

        return (null, 0);
    }

    /// <summary>Every NIC column together (Intune has "Wi-Fi MAC" and "EthernetMAC"): a machine's MACs are a set.</summary>
    private static (string? Value, int Source) AllValues(CsvReader reader, ReadOnlySpan<ColumnSource> sources)
    {
        if (sources.Length <= 1)
        {
            return Value(reader, sources);
        }

        string? joined = null;
        var first = 0;
        for (var s = sources.Length - 1; s >= 0; s--)
        {
            if (reader.GetString(sources[s].Index) is { Length: > 0 } raw)
            {
                joined = joined is null ? raw : raw + ";" + joined;
                first = s;
            }
        }

        return (joined, first);
    }

    private static string Shape(string value, ValueShape shape) => shape switch
    {
        // Reimage's own export defuses formula triggers with a leading apostrophe; take it off so the round trip is exact.
        _ when value.Length > 1 && value[0] == '\'' && value[1] is '=' or '+' or '-' or '@' or '\t' or '\r' => Shape(value[1..], shape),
        ValueShape.FirstDnsLabel => value.Split('.')[0],
        ValueShape.AccountName => value.TrimEnd('$'),
        ValueShape.DistinguishedNameCn => CommonName(value),
        _ => value,
    };

    private static string CommonName(string distinguishedName)
    {
        if (!distinguishedName.StartsWith("CN=", StringComparison.OrdinalIgnoreCase))
        {
            return distinguishedName;
        }

        // Commas inside a CN are escaped as "\,"; the first unescaped comma ends it.
        for (var i = 3; i < distinguishedName.Length; i++)
        {
            if (distinguishedName[i] == ',' && distinguishedName[i - 1] != '\\')
            {
                return distinguishedName[3..i].Replace("\\,", ",", StringComparison.Ordinal);
            }
        }

        return distinguishedName[3..];
    }
}
