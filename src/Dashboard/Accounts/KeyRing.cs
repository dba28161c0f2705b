using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;

namespace Reimage.Dashboard.Accounts;

/// <summary>
/// The Data Protection key ring that signs sign-in cookies and antiforgery tokens. It lives in this installation's
/// database (<see cref="AccountsDbContext.DataProtectionKeys"/>), so every node of the installation shares it and no
/// other installation does, even under the same OS account (the default ring in <c>~/.aspnet</c> is shared by every
/// instance of one user: a cookie from the demo, whose password is public, was accepted by a real instance). The keys
/// are encrypted at rest with a certificate kept outside the database: <c>Reimage:KeyRing:Certificate</c> (a PKCS#12
/// file; <c>Reimage:KeyRing:CertificatePassword</c> if it has one), by default
/// <c>&lt;Reimage:DataDirectory&gt;/key-ring.pfx</c>, generated at first start with mode 0600. Every node of an
/// installation needs the same certificate file.
/// </summary>
public static class KeyRing
{
    public const string ApplicationName = "Reimage";

    public static WebApplicationBuilder AddKeyRing(this WebApplicationBuilder builder)
    {
        var path = builder.Configuration["Reimage:KeyRing:Certificate"]
            ?? Path.Combine(builder.Configuration["Reimage:DataDirectory"] ?? ".reimage", "key-ring.pfx");
        var certificate = LoadOrCreate(Path.GetFullPath(path), builder.Configuration["Reimage:KeyRing:CertificatePassword"]);
        builder.Services.AddDataProtection()
            .SetApplicationName(ApplicationName)
            .PersistKeysToDbContext<AccountsDbContext>()
            .ProtectKeysWithCertificate(certificate)
            .UnprotectKeysWithAnyCertificate(certificate);
        return builder;
    }

    private static X509Certificate2 LoadOrCreate(string path, string? password)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var rsa = RSA.Create(3072);
            var request = new CertificateRequest("CN=Reimage key ring", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(100));
            var bytes = created.Export(X509ContentType.Pkcs12, password);
            try
            {
                // CreateNew: two nodes starting together on one data directory must not overwrite each other's file.
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using var file = new FileStream(path, options);
                file.Write(bytes);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use theirs.
            }
        }

        return X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet);
    }
}
