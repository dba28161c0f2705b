using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Reimage.Orchestrator.Audit;

/// <summary>
/// A signed seal over every machine's chain head at one moment: the Merkle root of all heads (<see cref="MerkleTree"/>),
/// the hash of the checkpoint before it, and the heads that changed since that one (so that a verifier can rebuild
/// every head a checkpoint covers from the checkpoints alone). The signature is Ed25519 over <see cref="Body"/>, a
/// canonical text; a checkpoint's hash, which the next one names, is the SHA-256 of that text.
/// </summary>
public sealed record Checkpoint(
    long Id, DateTimeOffset SealedAt, int Machines, byte[] Root, byte[]? Previous, IReadOnlyList<ChainHead> Changed, string KeyId, byte[] Signature)
{
    public const string Format = "reimage-checkpoint/1";

    /// <summary>The signed text: every field, the changed heads by their SHA-256.</summary>
    public string Body =>
        string.Create(CultureInfo.InvariantCulture,
            $"""
            {Format}
            id: {Id}
            sealed-at: {SealedAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'}
            machines: {Machines}
            root: {Convert.ToHexStringLower(Root)}
            previous: {(Previous is null ? "-" : Convert.ToHexStringLower(Previous))}
            changed: {Changed.Count} {Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ChangedLines(Changed))))}
            key: {KeyId}

            """);

    public byte[] BodyBytes => Encoding.UTF8.GetBytes(Body);

    /// <summary>What the next checkpoint names as its previous.</summary>
    public byte[] Hash => SHA256.HashData(BodyBytes);

    /// <summary>The changed heads one per line, <c>machine-id head-hex</c>, in the tree's leaf order.</summary>
    public static string ChangedLines(IEnumerable<ChainHead> changed) =>
        string.Concat(changed.Select(c => $"{c.MachineId:D} {Convert.ToHexStringLower(c.Head)}\n"));

    /// <summary>The checkpoint as the JSON file written outside the database and exported.</summary>
    public string ToJson() => JsonSerializer.Serialize(new CheckpointFile
    {
        Format = Format, Id = Id, SealedAt = SealedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
        Machines = Machines, Root = Convert.ToHexStringLower(Root), Previous = Previous is null ? null : Convert.ToHexStringLower(Previous),
        Changed = [.. Changed.Select(c => $"{c.MachineId:D} {Convert.ToHexStringLower(c.Head)}")], Key = KeyId, Signature = Convert.ToBase64String(Signature),
    }, FileOptions);

    /// <summary>Reads a checkpoint file; <see cref="FormatException"/> naming what is wrong with it.</summary>
    public static Checkpoint Parse(string json)
    {
        CheckpointFile file;
        try
        {
            file = JsonSerializer.Deserialize<CheckpointFile>(json, FileOptions) ?? throw new FormatException("empty checkpoint");
        }
        catch (JsonException e)
        {
            throw new FormatException($"not a checkpoint: {e.Message}", e);
        }

        if (file.Format != Format)
        {
            throw new FormatException($"format is '{file.Format}', expected '{Format}'");
        }

        try
        {
            return new Checkpoint(
                file.Id, DateTimeOffset.Parse(file.SealedAt ?? throw new FormatException("sealedAt is missing"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                file.Machines, Convert.FromHexString(file.Root ?? throw new FormatException("root is missing")),
                file.Previous is null ? null : Convert.FromHexString(file.Previous),
                [.. (file.Changed ?? []).Select(ParseHead)], file.Key ?? "", Convert.FromBase64String(file.Signature ?? ""));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new FormatException($"checkpoint {file.Id}: {e.Message}", e);
        }
    }

    /// <summary>The reverse of <see cref="ChangedLines"/>.</summary>
    public static List<ChainHead> ParseChangedLines(string lines) =>
        [.. lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ParseHead)];

    private static ChainHead ParseHead(string line)
    {
        var parts = line.Split(' ');
        return parts.Length == 2 && Guid.TryParse(parts[0], out var machine)
            ? new ChainHead(machine, Convert.FromHexString(parts[1]))
            : throw new FormatException($"changed head '{line}' is not 'machine-id head-hex'");
    }

    private static readonly JsonSerializerOptions FileOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private sealed class CheckpointFile
    {
        public string? Format { get; set; }
        public long Id { get; set; }
        public string? SealedAt { get; set; }
        public int Machines { get; set; }
        public string? Root { get; set; }
        public string? Previous { get; set; }
        public List<string>? Changed { get; set; }
        public string? Key { get; set; }
        public string? Signature { get; set; }
    }
}
