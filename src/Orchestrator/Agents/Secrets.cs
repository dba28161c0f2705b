using System.Security.Cryptography;

namespace Reimage.Orchestrator.Agents;

/// <summary>
/// Credentials of the form <c>{prefix}_{id}.{secret}</c>: the id finds the row, the 256-bit secret proves possession,
/// and only SHA-256(secret) is stored. Compared in constant time.
/// </summary>
public static class Secrets
{
    public static (string Text, byte[] Hash) Issue(string prefix, Guid id)
    {
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        return ($"{prefix}_{id:N}.{secret}", Hash(secret));
    }

    /// <summary>Splits a presented credential; false when it is not of the expected shape.</summary>
    public static bool TryParse(string? text, string prefix, out Guid id, out string secret)
    {
        (id, secret) = (Guid.Empty, "");
        if (text is null || !text.StartsWith(prefix + "_", StringComparison.Ordinal) || text.Length > 200)
        {
            return false;
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0 || !Guid.TryParseExact(text.AsSpan(prefix.Length + 1, dot - prefix.Length - 1), "N", out id))
        {
            return false;
        }

        secret = text[(dot + 1)..];
        return secret.Length >= 32;
    }

    public static byte[] Hash(string secret) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret));

    public static bool Matches(string secret, byte[] hash) => CryptographicOperations.FixedTimeEquals(Hash(secret), hash);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
