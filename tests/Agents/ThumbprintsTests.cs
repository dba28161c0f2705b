using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Reimage.Agents.Tests;

/// <summary>Pins as people copy them: openssl prints <c>SHA256 Fingerprint=AB:CD:…</c>, PowerShell plain upper-case hex, browsers spaced.</summary>
public sealed class ThumbprintsTests
{
    [Fact]
    public void APin_MatchesItsCertificate_InEveryFormPeopleCopyIt_AndNoOther()
    {
        using var key = ECDsa.Create();
        using var certificate = new CertificateRequest("CN=bmc", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        using var other = new CertificateRequest("CN=other", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(2));
        var hex = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
        var colons = string.Join(':', Enumerable.Range(0, 32).Select(i => hex.Substring(i * 2, 2)));

        foreach (var pin in new[] { hex, hex.ToLowerInvariant(), colons, colons.Replace(':', ' ') })
        {
            Assert.True(Thumbprints.IsSha256(pin), pin);
            Assert.True(Thumbprints.Matches(certificate, [pin]), pin);
            Assert.False(Thumbprints.Matches(other, [pin]), pin);
        }

        Assert.False(Thumbprints.IsSha256("AB:CD:EF"));
        Assert.False(Thumbprints.IsSha256(new string('G', 64)));
        Assert.False(Thumbprints.Matches(null, [hex]));
    }
}
