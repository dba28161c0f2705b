using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;
using Reimage.Agents.Protocol;

namespace Reimage.Agents.Drivers;

/// <summary>
/// Carries out <c>bmc-boot</c> through the machine's BMC with DMTF Redfish (DSP0266): one-time PXE boot override, then a
/// reset. Every URI is discovered from the service root, because Dell, HPE, Lenovo and Supermicro put systems, sessions
/// and actions at different paths; no vendor path is hard-coded.
/// </summary>
public sealed class RedfishDriver(HttpClient http, RedfishOptions options, ILogger<RedfishDriver> logger, TimeProvider? time = null) : IMachineDriver
{
    public const string Kind = "bmc-boot";

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<CommandResult> ExecuteAsync(LeasedCommand command, CancellationToken ct)
    {
        if (command.Kind != Kind)
        {
            return Fail(command, $"the Redfish driver cannot do '{command.Kind}'");
        }

        if (!TryParseBmcAddress(command.BmcAddress, out var bmc))
        {
            return Fail(command, $"{command.Hostname}: no usable BMC address ('{command.BmcAddress}')");
        }

        logger.LogInformation("Redfish boot of {MachineId} ({Hostname}) via BMC {Bmc}", command.MachineId, command.Hostname, bmc.Authority);
        var session = new RedfishSession(http, bmc, options);
        try
        {
            await session.LogInAsync(ct);
            var (path, system, etag) = await FindSystemAsync(session, command.Hostname, ct);
            var id = RedfishSession.Text(system["Id"]) ?? path.TrimEnd('/').Split('/')[^1];
            await SetPxeOnceAsync(session, path, system, etag, ct);
            var resets = await ResetAsync(session, path, system, ct);
            logger.LogInformation("{Hostname}: {System} on BMC {Bmc} boots PXE once, reset with {Resets}", command.Hostname, id, bmc.Authority, resets);
            return new CommandResult(command.Id, true, $"{session.Label}: {id} set to PXE boot once, reset with {resets}");
        }
        catch (RedfishException e)
        {
            return Fail(command, e.Message);
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json throws this when a BMC puts an array where the schema has an object.
            return Fail(command, $"{session.Label}: unexpected Redfish payload ({e.Message})");
        }
        finally
        {
            await LogOutAsync(session, command.MachineId);
        }
    }

    /// <summary>The first system's PowerState ("On", "Off", …), or null when the BMC does not report one. Throws <see cref="RedfishException"/>.</summary>
    public async Task<string?> GetPowerStateAsync(Uri bmc, CancellationToken ct)
    {
        var session = new RedfishSession(http, new Uri(bmc.GetLeftPart(UriPartial.Authority) + "/"), options);
        try
        {
            await session.LogInAsync(ct);
            var (_, system, _) = await FindSystemAsync(session, hostname: null, ct);
            return RedfishSession.Text(system["PowerState"]);
        }
        finally
        {
            await LogOutAsync(session, machineId: null);
        }
    }

    /// <summary>Reads a command's BMC address: a URL, or a bare host (with optional port), which means https.</summary>
    public static bool TryParseBmcAddress(string? address, [NotNullWhen(true)] out Uri? baseUri)
    {
        baseUri = null;
        if (string.IsNullOrWhiteSpace(address))
        {
            return false;
        }

        var text = address.Contains("://", StringComparison.Ordinal) ? address.Trim() : "https://" + address.Trim();
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            return false;
        }

        baseUri = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/");
        return true;
    }

    /// <summary>
    /// The system this command is about. A BMC usually manages one; a multi-node chassis lists several, and then the one
    /// whose HostName or Name matches the command's hostname wins, else the first.
    /// </summary>
    private static async Task<(string Path, JsonObject System, string? ETag)> FindSystemAsync(RedfishSession session, string? hostname, CancellationToken ct)
    {
        var collection = RedfishSession.Link(session.Root["Systems"]) ?? throw new RedfishException($"{session.Label}: the service root has no Systems collection");
        var (systems, _) = await session.GetAsync(collection, ct);
        var members = (systems["Members"] as JsonArray ?? []).Select(RedfishSession.Link).OfType<string>().ToList();
        if (members.Count == 0)
        {
            throw new RedfishException($"{session.Label}: the Systems collection is empty");
        }

        var (first, firstETag) = await session.GetAsync(members[0], ct);
        if (hostname is null || members.Count == 1 || IsHost(first, hostname))
        {
            return (members[0], first, firstETag);
        }

        foreach (var member in members.Skip(1))
        {
            var (system, etag) = await session.GetAsync(member, ct);
            if (IsHost(system, hostname))
            {
                return (member, system, etag);
            }
        }

        return (members[0], first, firstETag);
    }

    /// <summary>HostName or Name equals the hostname, comparing short names when one side is fully qualified.</summary>
    private static bool IsHost(JsonObject system, string hostname) =>
        new[] { RedfishSession.Text(system["HostName"]), RedfishSession.Text(system["Name"]) }.Any(reported => reported is { Length: > 0 }
            && (string.Equals(reported, hostname, StringComparison.OrdinalIgnoreCase)
                || string.Equals(reported.Split('.')[0], hostname.Split('.')[0], StringComparison.OrdinalIgnoreCase)));

    private static async Task SetPxeOnceAsync(RedfishSession session, string path, JsonObject system, string? etag, CancellationToken ct)
    {
        var allowed = system["Boot"]?["BootSourceOverrideTarget@Redfish.AllowableValues"] as JsonArray;
        if (system["Boot"] is null || (allowed is not null && !allowed.Any(v => RedfishSession.Text(v) == "Pxe")))
        {
            throw new RedfishException($"{session.Label}: no Pxe boot override allowed");
        }

        var body = new JsonObject { ["Boot"] = new JsonObject { ["BootSourceOverrideEnabled"] = "Once", ["BootSourceOverrideTarget"] = "Pxe" } };
        await session.SendAsync(HttpMethod.Patch, path, body, etag, "setting the Pxe boot override", ct);
    }

    /// <summary>
    /// Resets the system so it boots the override. A machine that is already off is simply switched on (ForceRestart on
    /// a powered-off system is refused or ignored by several BMCs); otherwise ForceRestart, else ForceOff-wait-On, else
    /// GracefulRestart, which depends on a responsive OS and so comes last. Returns the reset types used.
    /// </summary>
    private async Task<string> ResetAsync(RedfishSession session, string path, JsonObject system, CancellationToken ct)
    {
        var reset = system["Actions"]?["#ComputerSystem.Reset"];
        var target = RedfishSession.Text(reset?["target"]) ?? throw new RedfishException($"{session.Label}: the system offers no #ComputerSystem.Reset action");
        var allowed = await AllowedResetTypesAsync(session, reset!, ct);
        bool Allows(string type) => allowed is null || allowed.Contains(type);

        if (RedfishSession.Text(system["PowerState"]) == "Off" && Allows("On"))
        {
            return await SendResetAsync(session, target, "On", ct);
        }

        if (Allows("ForceRestart"))
        {
            return await SendResetAsync(session, target, "ForceRestart", ct);
        }

        if (Allows("ForceOff") && Allows("On"))
        {
            await SendResetAsync(session, target, "ForceOff", ct);
            await WaitForPowerOffAsync(session, path, ct);
            await SendResetAsync(session, target, "On", ct);
            return "ForceOff, On";
        }

        if (Allows("GracefulRestart"))
        {
            return await SendResetAsync(session, target, "GracefulRestart", ct);
        }

        throw new RedfishException($"{session.Label}: no usable ResetType (allowed: {string.Join(", ", allowed!)})");
    }

    /// <summary>The allowable ResetType values, from the action itself or its ActionInfo; null when the BMC does not say.</summary>
    private static async Task<HashSet<string>?> AllowedResetTypesAsync(RedfishSession session, JsonNode reset, CancellationToken ct)
    {
        var values = reset["ResetType@Redfish.AllowableValues"] as JsonArray;
        if (values is null && RedfishSession.Text(reset["@Redfish.ActionInfo"]) is { } actionInfo)
        {
            var (info, _) = await session.GetAsync(actionInfo, ct);
            values = (info["Parameters"] as JsonArray)?.FirstOrDefault(p => RedfishSession.Text(p?["Name"]) == "ResetType")?["AllowableValues"] as JsonArray;
        }

        return values?.Select(RedfishSession.Text).OfType<string>().ToHashSet(StringComparer.Ordinal);
    }

    private static async Task<string> SendResetAsync(RedfishSession session, string target, string resetType, CancellationToken ct)
    {
        await session.SendAsync(HttpMethod.Post, target, new JsonObject { ["ResetType"] = resetType }, null, $"reset {resetType}", ct);
        return resetType;
    }

    private async Task WaitForPowerOffAsync(RedfishSession session, string path, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + options.PowerOffTimeout;
        while (true)
        {
            var (system, _) = await session.GetAsync(path, ct);
            var state = RedfishSession.Text(system["PowerState"]);
            if (state == "Off")
            {
                return;
            }

            if (_time.GetUtcNow() >= deadline)
            {
                throw new RedfishException($"{session.Label}: timed out after {options.PowerOffTimeout.TotalSeconds:0} s waiting for PowerState Off after ForceOff (still {state ?? "unknown"})");
            }

            await Task.Delay(options.PowerPollInterval, _time, ct);
        }
    }

    /// <summary>Runs even when the command was cancelled, on its own bounded token, so a session is never left behind.</summary>
    private async Task LogOutAsync(RedfishSession session, Guid? machineId)
    {
        using var timeout = new CancellationTokenSource(options.LogoutTimeout, _time);
        try
        {
            if (!await session.LogOutAsync(timeout.Token))
            {
                logger.LogWarning("{Bmc}: the Redfish session of {MachineId} could not be deleted; it lasts until the BMC times it out", session.Label, machineId);
            }
        }
        catch (Exception e) when (e is RedfishException or OperationCanceledException)
        {
            logger.LogWarning("{Bmc}: deleting the Redfish session of {MachineId} failed: {Error}", session.Label, machineId, e.Message);
        }
    }

    private CommandResult Fail(LeasedCommand command, string detail)
    {
        logger.LogWarning("Redfish boot of {MachineId} failed: {Detail}", command.MachineId, detail);
        return new CommandResult(command.Id, false, detail);
    }
}
