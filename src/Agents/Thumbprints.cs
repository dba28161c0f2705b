using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Reimage.Agents;

/// <summary>
/// Certificate pins: SHA-256 thumbprints as people copy them (<c>openssl x509 -fingerprint -sha256</c> prints
/// <c>AB:CD:…</c>; PowerShell and browsers print plain hex, some with spaces): separators are dropped, case ignored.
/// </summary>
public static class Thumbprints
{
    public static string Normalise(string value) => new([.. value.Where(c => c is not (':' or ' ' or '-')).Select(char.ToUpperInvariant)]);

    public static bool IsSha256(string value) => Normalise(value) is { Length: 64 } hex && hex.All(char.IsAsciiHexDigit);

    /// <summary>Whether <paramref name="certificate"/>'s SHA-256 thumbprint is one of <paramref name="pinned"/>.</summary>
    public static bool Matches(X509Certificate? certificate, IEnumerable<string> pinned) =>
        certificate is not null && pinned.Select(Normalise).Contains(Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)), StringComparer.Ordinal);
}
