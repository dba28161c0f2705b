namespace Reimage.Orchestrator.Import;

/// <summary>
/// Turns the MAC notations found in inventories (AA:BB:CC:DD:EE:FF, aa-bb-cc-dd-ee-ff, Cisco aabb.ccdd.eeff,
/// bare aabbccddeeff, any case) into the stored form AA:BB:CC:DD:EE:FF, so the same NIC matches whoever wrote it.
/// </summary>
public static class MacAddresses
{
    /// <summary>What the product does with a MAC found on more than one machine.</summary>
    public const string SharedNote =
        "kept on both records as a shared MAC (docking stations and USB network adapters move between machines); it is never used to identify a machine or as its only wake target";

    private static readonly char[] ListSeparators = [';', ',', '|', ' ', '\t', '\r', '\n'];

    /// <summary>
    /// Parses a field holding zero or more MACs separated by <c>;</c>, <c>,</c>, <c>|</c> or whitespace.
    /// Duplicates collapse; the first invalid entry is reported and nothing is returned.
    /// </summary>
    public static bool TryParseList(string? field, out IReadOnlyList<string> macs, out string? invalid)
    {
        invalid = null;
        if (string.IsNullOrWhiteSpace(field))
        {
            macs = [];
            return true;
        }

        var parts = field.Split(ListSeparators, StringSplitOptions.RemoveEmptyEntries);
        var result = new List<string>(parts.Length);
        foreach (var part in parts)
        {
            if (!TryNormalise(part, out var mac))
            {
                invalid = part;
                macs = [];
                return false;
            }

            if (!result.Contains(mac))
            {
                result.Add(mac);
            }
        }

        macs = result;
        return true;
    }

    /// <summary>One MAC in any accepted notation → upper-case colon form.</summary>
    public static bool TryNormalise(ReadOnlySpan<char> value, out string mac)
    {
        mac = "";
        Span<char> hex = stackalloc char[12];
        var digits = 0;
        var separator = '\0';
        var groupLength = 0;
        var groups = 0;
        foreach (var c in value)
        {
            if (char.IsAsciiHexDigit(c))
            {
                if (digits == 12)
                {
                    return false;
                }

                hex[digits++] = char.ToUpperInvariant(c);
                groupLength++;
            }
            else if (c is ':' or '-' or '.')
            {
                // One kind of separator per address, never leading, trailing or doubled.
                if ((separator != '\0' && c != separator) || groupLength == 0)
                {
                    return false;
                }

                separator = c;
                groups++;
                if (!ValidGroup(separator, groupLength))
                {
                    return false;
                }

                groupLength = 0;
            }
            else
            {
                return false;
            }
        }

        if (digits != 12 || (separator != '\0' && !ValidGroup(separator, groupLength)))
        {
            return false;
        }

        groups++;
        var expectedGroups = separator switch { '\0' => 1, '.' => 3, _ => 6 };
        if (groups != expectedGroups)
        {
            return false;
        }

        mac = string.Create(17, hex.ToArray(), static (span, h) =>
        {
            for (var i = 0; i < 6; i++)
            {
                span[i * 3] = h[i * 2];
                span[(i * 3) + 1] = h[(i * 2) + 1];
                if (i < 5)
                {
                    span[(i * 3) + 2] = ':';
                }
            }
        });
        return true;
    }

    private static bool ValidGroup(char separator, int length) => separator == '.' ? length == 4 : length == 2;
}
