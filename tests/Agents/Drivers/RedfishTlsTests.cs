using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Reimage.Agents.Drivers;

namespace Reimage.Agents.Tests.Drivers;

/// <summary>
/// A BMC over real TLS with the self-signed certificate BMCs ship with, through the agent's own registered BMC client:
/// refused with the certificate's fingerprint named (so the operator can pin it), and accepted once pinned in the form
/// openssl prints it.
/// </summary>
public sealed class RedfishTlsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ASelfSignedBmc_IsRefusedNamingItsFingerprint_AndBootedOncePinned()
    {
        using var certificate = SelfSigned("CN=idrac-7XK2M43");
        await using var bmc = await FakeRedfishBmc.StartAsync(RedfishDriverTests.DellLike, Ct, certificate);
        var hex = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
        var fingerprint = string.Join(':', Enumerable.Range(0, 32).Select(i => hex.Substring(i * 2, 2)));

        var refused = await BootAsync(bmc, pin: null);
        var pinned = await BootAsync(bmc, pin: fingerprint);

        Assert.False(refused.Succeeded);
        Assert.Contains("TLS refused: the BMC's certificate (CN=idrac-7XK2M43) is not trusted", refused.Detail, StringComparison.Ordinal);
        Assert.Contains($"SHA-256 {fingerprint}", refused.Detail, StringComparison.Ordinal);
        Assert.Contains("Agent:Redfish:TrustedCertificates", refused.Detail, StringComparison.Ordinal);
        Assert.True(pinned.Succeeded, pinned.Detail);
        Assert.Equal(["ForceRestart"], bmc.System("/redfish/v1/Systems/System.Embedded.1").Resets);
    }

    private static async Task<Reimage.Agents.Protocol.CommandResult> BootAsync(FakeRedfishBmc bmc, string? pin)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:Redfish:Username"] = RedfishDriverTests.DellLike.Username,
            ["Agent:Redfish:Password"] = RedfishDriverTests.DellLike.Password,
            ["Agent:Redfish:TrustedCertificates:0"] = pin,
        }.Where(p => p.Value is not null));
        builder.AddAgentDrivers();
        using var host = builder.Build();
        var driver = new RedfishDriver(host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(DriverRegistration.BmcClient),
            host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RedfishOptions>>().Value, new ListLogger<RedfishDriver>());
        return await driver.ExecuteAsync(RedfishDriverTests.Command(bmc, "pc-dell-01"), Ct);
    }

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
