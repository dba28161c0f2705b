using System.Text;
using Microsoft.Extensions.Time.Testing;
using Reimage.Agents.Drivers;

namespace Reimage.Agents.Tests.Drivers;

/// <summary>A Redfish driver with a recording logger and its own HttpClient, and the check that no secret leaked.</summary>
internal sealed class Rig(BmcFlavour flavour, FakeTimeProvider? clock = null, RedfishOptions? options = null) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public RedfishOptions Options { get; } = options ?? RedfishDriverTests.Options(flavour);

    public ListLogger<RedfishDriver> Log { get; } = new();

    public RedfishDriver Driver => new(_http, Options, Log, clock ?? new FakeTimeProvider());

    public void Dispose() => _http.Dispose();

    /// <summary>Neither the configured password, the Basic credential nor any session token may reach a Detail or a log line.</summary>
    public void AssertNoSecrets(FakeRedfishBmc bmc, params string?[] details)
    {
        Assert.NotEmpty(Log.Lines);
        string[] secrets =
        [
            Options.Password, flavour.Password,
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Options.Username}:{Options.Password}")),
            .. bmc.IssuedTokens,
        ];
        foreach (var secret in secrets)
        {
            Assert.All(details, d => Assert.DoesNotContain(secret, d ?? "", StringComparison.Ordinal));
            Assert.All(Log.Lines, line => Assert.DoesNotContain(secret, line, StringComparison.Ordinal));
        }
    }
}
