using System.Security.Cryptography;
using NSec.Cryptography;

namespace Reimage.Orchestrator.Audit;

/// <summary>
/// The Ed25519 key that signs checkpoints. It is kept outside the database, so that whoever can write the database
/// cannot sign: a key file of 32 raw bytes (the private key's seed), mode 0600, generated at first start. The file is
/// <c>Reimage:Audit:SigningKey</c>; else, under systemd with <c>LoadCredential=checkpoint-signing-key:…</c>, the
/// credential <c>$CREDENTIALS_DIRECTORY/checkpoint-signing-key</c>; else <c>&lt;Reimage:DataDirectory&gt;/checkpoint-signing.key</c>.
/// Every node of an installation needs the same file. Verifying needs only the public key (<see cref="PublicKeyHex"/>).
/// </summary>
public sealed class CheckpointKey : IDisposable
{
    private static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;
    private readonly Key key;

    private CheckpointKey(Key key)
    {
        this.key = key;
        PublicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
    }

    /// <summary>The raw 32-byte public key.</summary>
    public byte[] PublicKey { get; }

    public string PublicKeyHex => Convert.ToHexStringLower(PublicKey);

    /// <summary>The key's short name in every checkpoint: the first 16 hex digits of the public key's SHA-256.</summary>
    public string Id => IdOf(PublicKey);

    public static string IdOf(byte[] publicKey) => Convert.ToHexStringLower(SHA256.HashData(publicKey))[..16];

    public byte[] Sign(byte[] data) => Algorithm.Sign(key, data);

    public static bool Verify(byte[] publicKey, byte[] data, byte[] signature)
    {
        if (publicKey.Length != Algorithm.PublicKeySize || signature.Length != Algorithm.SignatureSize)
        {
            return false;
        }

        var imported = NSec.Cryptography.PublicKey.Import(Algorithm, publicKey, KeyBlobFormat.RawPublicKey);
        return Algorithm.Verify(imported, data, signature);
    }

    /// <summary>A public key given as 64 hex digits (colons and spaces allowed), or a file holding them.</summary>
    public static byte[] ReadPublicKey(string hexOrFile)
    {
        var text = File.Exists(hexOrFile) ? File.ReadAllText(hexOrFile) : hexOrFile;
        var hex = new string([.. text.Where(Uri.IsHexDigit)]);
        return hex.Length == 2 * Algorithm.PublicKeySize
            ? Convert.FromHexString(hex)
            : throw new FormatException($"'{hexOrFile}' is not an Ed25519 public key (64 hex digits, or a file holding them)");
    }

    /// <summary>The key file <see cref="CheckpointKey"/> describes, from configuration.</summary>
    public static string PathFrom(string? configured, string? dataDirectory)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }

        var credentials = Environment.GetEnvironmentVariable("CREDENTIALS_DIRECTORY");
        if (!string.IsNullOrEmpty(credentials) && File.Exists(Path.Combine(credentials, "checkpoint-signing-key")))
        {
            return Path.Combine(credentials, "checkpoint-signing-key");
        }

        return Path.GetFullPath(Path.Combine(dataDirectory ?? ".reimage", "checkpoint-signing.key"));
    }

    /// <summary>Loads the key file, creating it (0600) when it does not exist yet.</summary>
    public static CheckpointKey LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var created = Key.Create(Algorithm, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
            var seed = created.Export(KeyBlobFormat.RawPrivateKey);
            try
            {
                // CreateNew: two nodes starting together on one data directory must not overwrite each other's key.
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using var file = new FileStream(path, options);
                file.Write(seed);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use theirs.
            }
            finally
            {
                CryptographicOperations.ZeroMemory(seed);
            }
        }

        var bytes = File.ReadAllBytes(path);
        try
        {
            if (bytes.Length != Algorithm.PrivateKeySize)
            {
                throw new InvalidOperationException($"The checkpoint signing key {path} is not a raw Ed25519 private key ({Algorithm.PrivateKeySize} bytes).");
            }

            return new CheckpointKey(Key.Import(Algorithm, bytes, KeyBlobFormat.RawPrivateKey));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    public void Dispose() => key.Dispose();
}
