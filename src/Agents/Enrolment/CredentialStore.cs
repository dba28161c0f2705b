using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text.Json;

namespace Reimage.Agents.Enrolment;

/// <summary>What enrolment gave this agent. The secret inside <see cref="Credential"/> exists only here and, hashed, on the server.</summary>
public sealed record StoredCredential(Guid AgentId, Guid SiteId, Uri Server, string Credential);

/// <summary>
/// Keeps the agent's credential on disk readable by the agent alone: a file created with mode 0600 on Linux,
/// protected with DPAPI (machine scope) on Windows. Never logged.
/// </summary>
public sealed class CredentialStore(string directory)
{
    private string FilePath => Path.Combine(directory, OperatingSystem.IsWindows() ? "credential.dpapi" : "credential.json");

    public StoredCredential? Load()
    {
        if (!File.Exists(FilePath))
        {
            return null;
        }

        var bytes = File.ReadAllBytes(FilePath);
        if (OperatingSystem.IsWindows())
        {
            bytes = Unprotect(bytes);
        }

        return JsonSerializer.Deserialize<StoredCredential>(bytes, JsonSerializerOptions.Web);
    }

    public void Save(StoredCredential credential)
    {
        Directory.CreateDirectory(directory);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(credential, JsonSerializerOptions.Web);
        var temporary = FilePath + ".new";
        if (OperatingSystem.IsWindows())
        {
            File.WriteAllBytes(temporary, Protect(bytes));
        }
        else
        {
            using var file = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            file.Write(bytes);
        }

        File.Move(temporary, FilePath, overwrite: true); // a crash mid-write never leaves a half credential behind
    }

    [SupportedOSPlatform("windows")]
    private static byte[] Protect(byte[] bytes) => ProtectedData.Protect(bytes, null, DataProtectionScope.LocalMachine);

    [SupportedOSPlatform("windows")]
    private static byte[] Unprotect(byte[] bytes) => ProtectedData.Unprotect(bytes, null, DataProtectionScope.LocalMachine);
}
