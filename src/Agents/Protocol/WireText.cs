using System.Text.Json;
using System.Text.Json.Serialization;

namespace Reimage.Agents.Protocol;

/// <summary>
/// The text rules of every field that is stored: PostgreSQL cannot hold a NUL, and an unpaired UTF-16 surrogate
/// is not text at all. One BMC's error page or a driver's exception message can carry either.
/// </summary>
public static class WireText
{
    /// <summary>Why <paramref name="value"/> cannot be stored as a field of at most <paramref name="max"/> characters; null when it can.</summary>
    public static string? Problem(string? value, int max)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length > max)
        {
            return $"is {value.Length:N0} characters long; at most {max:N0}";
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0')
            {
                return $"holds a NUL character at position {i + 1}";
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return $"holds an unpaired surrogate (U+{(int)c:X4}) at position {i + 1}: not valid text";
            }
        }

        return null;
    }

    /// <summary>
    /// <paramref name="value"/> made storable: NULs and unpaired surrogates become U+FFFD, and it is cut to
    /// <paramref name="max"/> characters. For text the agent composes from what drivers and machines say.
    /// </summary>
    public static string? Clean(string? value, int max)
    {
        if (value is null || Problem(value, int.MaxValue) is null && value.Length <= max)
        {
            return value;
        }

        var chars = value.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (chars[i] == '\0' || char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }

        var length = Math.Min(chars.Length, max);
        if (length > 0 && length < chars.Length && char.IsHighSurrogate(chars[length - 1]))
        {
            length--;
        }

        return new string(chars, 0, length);
    }

    /// <summary>Reads and writes a JSON string unchanged, for a field whose text is judged after it is read.</summary>
    public sealed class AsSent : JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetString();

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }
}
