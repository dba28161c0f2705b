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
            var target = await FindSystemAsync(session, command, SystemPathOf(command.BmcAddress), ct);
            var id = RedfishSession.Text(target.System["Id"]) ?? target.Path.TrimEnd('/').Split('/')[^1];
            var boot = await SetPxeOnceAsync(session, target.Path, target.System, target.ETag, ct);
            var started = _time.GetUtcNow();
            var resets = await ResetAsync(session, target.Path, target.System, ct);
            var on = await WaitForPowerOnAsync(session, target.Path, started, ct);
            logger.LogInformation("{Hostname}: {System} on BMC {Bmc} ({Identity}) {Boot}, reset with {Resets}, {On}", command.Hostname, id, bmc.Authority, target.Identity, boot, resets, on);
            return new CommandResult(command.Id, true, $"{session.Label}: {id} ({target.Identity}) {boot}, reset with {resets}, {on}");
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

    /// <summary>The system path a BMC address names (<c>https://bmc/redfish/v1/Systems/2</c>), or null when it names only the BMC.</summary>
    public static string? SystemPathOf(string? address)
    {
        if (!TryParseBmcAddress(address, out _))
        {
            return null;
        }

        var text = address!.Contains("://", StringComparison.Ordinal) ? address.Trim() : "https://" + address.Trim();
        var path = new Uri(text).AbsolutePath;
        return path.Contains("/Systems/", StringComparison.OrdinalIgnoreCase) && path.TrimEnd('/').Split('/')[^1] is { Length: > 0 } last
            && !last.Equals("Systems", StringComparison.OrdinalIgnoreCase) ? path : null;
    }

    private sealed record Target(string Path, JsonObject System, string? ETag, string Identity);

    /// <summary>
    /// The system this command is about, never a guess: the one the BMC address names (checked against the machine's
    /// serial when both are known), else the single system whose serial number, then one of whose network interfaces'
    /// MAC address, then (last, exactly) whose host name is the machine's. None or several: nothing is changed and the
    /// command fails saying what the BMC lists. A chassis manager or blade enclosure lists many systems behind one
    /// address; taking the first would power-cycle a running server.
    /// </summary>
    private static async Task<Target> FindSystemAsync(RedfishSession session, LeasedCommand command, string? namedPath, CancellationToken ct)
    {
        var serial = string.IsNullOrWhiteSpace(command.SerialNumber) ? null : command.SerialNumber.Trim();
        if (namedPath is not null)
        {
            JsonObject named;
            string? namedETag;
            try
            {
                (named, namedETag) = await session.GetAsync(namedPath, ct);
            }
            catch (RedfishException e)
            {
                throw new RedfishException($"{session.Label}: the BMC address names system {namedPath}, which cannot be read ({e.Message}); nothing was changed");
            }

            var reported = RedfishSession.Text(named["SerialNumber"])?.Trim();
            if (serial is not null && reported is { Length: > 0 } && !reported.Equals(serial, StringComparison.OrdinalIgnoreCase))
            {
                throw new RedfishException($"{session.Label}: the BMC address names system {namedPath}, whose serial {reported} is not this machine's ({serial}); nothing was changed");
            }

            return new Target(namedPath, named, namedETag, serial is not null && reported is { Length: > 0 } ? $"named by the BMC address, serial {reported} matched" : "named by the BMC address");
        }

        var collection = RedfishSession.Link(session.Root["Systems"]) ?? throw new RedfishException($"{session.Label}: the service root has no Systems collection");
        var (systems, _) = await session.GetAsync(collection, ct);
        var members = (systems["Members"] as JsonArray ?? []).Select(RedfishSession.Link).OfType<string>().ToList();
        if (members.Count == 0)
        {
            throw new RedfishException($"{session.Label}: the Systems collection is empty");
        }

        var read = new List<(string Path, JsonObject System, string? ETag)>();
        foreach (var member in members)
        {
            var (system, etag) = await session.GetAsync(member, ct);
            read.Add((member, system, etag));
        }

        string Listed() => $"BMC lists {read.Count} system(s) ({string.Join(", ", read.Select(r => RedfishSession.Text(r.System["Id"]) ?? r.Path))})";
        Target One(List<(string Path, JsonObject System, string? ETag)> found, string by) => found.Count == 1
            ? new Target(found[0].Path, found[0].System, found[0].ETag, by)
            : throw new RedfishException($"{session.Label}: {Listed()}; {found.Count} match {by}: refusing to guess, nothing was changed");

        if (serial is not null)
        {
            var bySerial = read.Where(r => string.Equals(RedfishSession.Text(r.System["SerialNumber"])?.Trim(), serial, StringComparison.OrdinalIgnoreCase)).ToList();
            if (bySerial.Count > 0)
            {
                return One(bySerial, $"serial {serial}");
            }
        }

        var macs = command.MacAddresses.Select(NormalMac).Where(m => m.Length == 12).ToHashSet(StringComparer.Ordinal);
        if (macs.Count > 0)
        {
            var byMac = new List<(string Path, JsonObject System, string? ETag)>();
            foreach (var candidate in read)
            {
                if ((await MacsAsync(session, candidate.System, ct)).Overlaps(macs))
                {
                    byMac.Add(candidate);
                }
            }

            if (byMac.Count > 0)
            {
                return One(byMac, $"MAC {string.Join("/", command.MacAddresses)}");
            }
        }

        var byName = read.Where(r => IsHost(r.System, command.Hostname)).ToList();
        if (byName.Count > 0)
        {
            return One(byName, $"host name {command.Hostname}");
        }

        throw new RedfishException($"{session.Label}: {Listed()}, none matches serial {serial ?? "(none known)"}, MAC {(macs.Count == 0 ? "(none known)" : string.Join("/", command.MacAddresses))} "
            + $"or host name {command.Hostname}: nothing was changed (put the system in the BMC address: https://bmc/redfish/v1/Systems/<id>)");
    }

    /// <summary>The MAC addresses of a system's network interfaces (MACAddress and PermanentMACAddress), normalised.</summary>
    private static async Task<HashSet<string>> MacsAsync(RedfishSession session, JsonObject system, CancellationToken ct)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        if (RedfishSession.Link(system["EthernetInterfaces"]) is not { } link)
        {
            return found;
        }

        var (interfaces, _) = await session.GetAsync(link, ct);
        foreach (var member in (interfaces["Members"] as JsonArray ?? []).Select(RedfishSession.Link).OfType<string>())
        {
            var (nic, _) = await session.GetAsync(member, ct);
            foreach (var field in new[] { "MACAddress", "PermanentMACAddress" })
            {
                if (RedfishSession.Text(nic[field]) is { } mac && NormalMac(mac) is { Length: 12 } normal)
                {
                    found.Add(normal);
                }
            }
        }

        return found;
    }

    private static string NormalMac(string mac) => new([.. mac.Where(char.IsAsciiHexDigit).Select(char.ToUpperInvariant)]);

    /// <summary>The system reports a HostName equal to the machine's (comparing short names when one side is fully qualified).</summary>
    private static bool IsHost(JsonObject system, string hostname) =>
        RedfishSession.Text(system["HostName"]) is { Length: > 0 } reported
        && (string.Equals(reported, hostname, StringComparison.OrdinalIgnoreCase)
            || string.Equals(reported.Split('.')[0], hostname.Split('.')[0], StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Sets "boot PXE once", then reads it back: a BMC that answers 204 and keeps the override Continuous (several do)
    /// would make the machine network-boot on every restart. What the BMC really holds is what the result says.
    /// </summary>
    private async Task<string> SetPxeOnceAsync(RedfishSession session, string path, JsonObject system, string? etag, CancellationToken ct)
    {
        var allowed = system["Boot"]?["BootSourceOverrideTarget@Redfish.AllowableValues"] as JsonArray;
        if (system["Boot"] is null || (allowed is not null && !allowed.Any(v => RedfishSession.Text(v) == "Pxe")))
        {
            throw new RedfishException($"{session.Label}: no Pxe boot override allowed");
        }

        var body = new JsonObject { ["Boot"] = new JsonObject { ["BootSourceOverrideEnabled"] = "Once", ["BootSourceOverrideTarget"] = "Pxe" } };
        await session.SendAsync(HttpMethod.Patch, path, body, etag, "setting the Pxe boot override", ct);

        var (after, _) = await session.GetAsync(path, ct);
        var target = RedfishSession.Text(after["Boot"]?["BootSourceOverrideTarget"]);
        var enabled = RedfishSession.Text(after["Boot"]?["BootSourceOverrideEnabled"]);
        if (target is not null && target != "Pxe")
        {
            throw new RedfishException($"{session.Label}: the BMC accepted the Pxe boot override but reports target {target}: not reset");
        }

        if (enabled is null || enabled == "Once")
        {
            return enabled is null ? "set to PXE boot once (the BMC does not report the override back)" : "set to PXE boot once (read back)";
        }

        if (!string.Equals(options.WhenOnceIgnored, "Accept", StringComparison.OrdinalIgnoreCase))
        {
            throw new RedfishException($"{session.Label}: the BMC ignored \"Once\" and keeps the Pxe override {enabled}: not reset (the machine would network-boot on every restart; "
                + "Agent:Redfish:WhenOnceIgnored=Accept boots it anyway)");
        }

        return $"set to PXE boot {enabled}: the BMC ignored \"Once\", the override must be cleared after imaging";
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

    /// <summary>
    /// After the reset: reads PowerState until the system reports On (a BMC answers the reset with 204 and the power
    /// changes seconds later, or never). The observed time goes into the result; still Off after the timeout fails.
    /// </summary>
    private async Task<string> WaitForPowerOnAsync(RedfishSession session, string path, DateTimeOffset since, CancellationToken ct)
    {
        var deadline = since + options.PowerOnTimeout;
        while (true)
        {
            var (system, _) = await session.GetAsync(path, ct);
            var state = RedfishSession.Text(system["PowerState"]);
            if (state == "On" || state is null)
            {
                var seconds = (_time.GetUtcNow() - since).TotalSeconds;
                return state is null ? "power state not reported" : $"On after {seconds:0} s";
            }

            if (_time.GetUtcNow() >= deadline)
            {
                throw new RedfishException($"{session.Label}: reset sent, but the system still reports PowerState {state} after {options.PowerOnTimeout.TotalSeconds:0} s");
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
