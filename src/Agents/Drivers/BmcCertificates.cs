using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Reimage.Agents.Drivers;

/// <summary>
/// The certificate each BMC last presented and why it was refused, so that a failed boot can say which certificate to
/// pin (its SHA-256, as <c>Agent:Redfish:TrustedCertificates</c> takes it) instead of "see the inner exception".
/// </summary>
public static class BmcCertificates
{
    public sealed record Seen(string Subject, string Thumbprint, SslPolicyErrors Errors);

    private static readonly ConcurrentDictionary<string, Seen> Refusals = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Records a refusal; returns false (the certificate stays refused).</summary>
    public static bool Refused(object sender, X509Certificate? certificate, SslPolicyErrors errors)
    {
        var host = (sender as SslStream)?.TargetHostName;
        if (certificate is not null && !string.IsNullOrEmpty(host))
        {
            var hex = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
            Refusals[host] = new Seen(certificate.Subject, string.Join(':', Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2))), errors);
        }

        return false;
    }

    public static Seen? Presented(Uri bmc) => Refusals.TryGetValue(bmc.Host, out var seen) ? seen : null;
}
