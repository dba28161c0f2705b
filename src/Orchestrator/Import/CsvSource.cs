using System.Text;
using System.Text.Unicode;

namespace Reimage.Orchestrator.Import;

/// <summary>
/// A CSV file's bytes as UTF-8, with what was detected about them. Recovery teams bring files from PowerShell
/// (UTF-16 or UTF-8, a <c>#TYPE</c> first line), Configuration Manager and Excel ("CSV UTF-8" with a byte-order
/// mark, or plain "CSV" in the ANSI code page), so the encoding is never assumed.
/// </summary>
internal sealed record CsvSource(ReadOnlyMemory<byte> Utf8Text, string Encoding, int SkippedLines, bool ActiveDirectoryTypeLine)
{
    private static readonly byte[] TypeLinePrefix = "#TYPE"u8.ToArray();

    static CsvSource() => System.Text.Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static async Task<CsvSource> ReadAsync(Stream stream, CancellationToken ct)
    {
        using var buffer = stream.CanSeek ? new MemoryStream(checked((int)(stream.Length - stream.Position))) : new MemoryStream();
        await stream.CopyToAsync(buffer, ct);
        return Decode(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }

    public static CsvSource Decode(ReadOnlyMemory<byte> bytes)
    {
        var (utf8, encoding) = ToUtf8(bytes);

        // PowerShell's Export-Csv writes "#TYPE <class>" before the header unless told not to; the CSV reader
        // must not take it for the header, and line numbers must still count it.
        if (utf8.Span.StartsWith(TypeLinePrefix))
        {
            var end = utf8.Span.IndexOf((byte)'\n');
            return new CsvSource(end < 0 ? ReadOnlyMemory<byte>.Empty : utf8[(end + 1)..], encoding, 1, true);
        }

        return new CsvSource(utf8, encoding, 0, false);
    }

    private static (ReadOnlyMemory<byte> Utf8, string Name) ToUtf8(ReadOnlyMemory<byte> bytes)
    {
        var span = bytes.Span;
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            return (bytes[3..], "UTF-8 with BOM");
        }

        if (span.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return (Transcode(span[2..], new UnicodeEncoding(bigEndian: false, byteOrderMark: false)), "UTF-16 LE with BOM");
        }

        if (span.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return (Transcode(span[2..], new UnicodeEncoding(bigEndian: true, byteOrderMark: false)), "UTF-16 BE with BOM");
        }

        // Windows-1252 text with accents is almost never valid UTF-8, so valid UTF-8 is taken at its word.
        return Utf8.IsValid(span)
            ? (bytes, "UTF-8")
            : (Transcode(span, System.Text.Encoding.GetEncoding(1252)), "Windows-1252");
    }

    private static byte[] Transcode(ReadOnlySpan<byte> bytes, Encoding from) => System.Text.Encoding.UTF8.GetBytes(from.GetString(bytes));
}
