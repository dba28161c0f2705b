using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Reimage.Agents.Protocol;

namespace Reimage.Agents.Drivers;

/// <summary>
/// Carries out <c>network-boot</c> by sending a Wake-on-LAN magic packet to every MAC the server knows for the
/// machine: a PC with a docking station or a second NIC wakes on whichever one the firmware armed.
/// </summary>
/// <remarks>
/// Success only means the packets left this agent; WoL has no acknowledgement. The server learns that the machine
/// really booted when the PXE/imaging step phones home.
/// </remarks>
public sealed class WakeOnLanDriver(WakeOnLanOptions options, ILogger<WakeOnLanDriver> logger, TimeProvider? time = null) : IMachineDriver
{
    public const string Kind = "network-boot";

    private const int MacLength = 6;
    private const int MacRepetitions = 16;

    /// <summary>The length of a magic packet: six 0xFF bytes, then the MAC sixteen times.</summary>
    public const int PacketLength = MacLength + (MacLength * MacRepetitions);

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<CommandResult> ExecuteAsync(LeasedCommand command, CancellationToken ct)
    {
        if (command.Kind != Kind)
        {
            return Fail(command, $"the Wake-on-LAN driver cannot do '{command.Kind}'");
        }

        if (command.MacAddresses.Count == 0)
        {
            return Fail(command, $"{command.Hostname}: no MAC address known, cannot send a magic packet");
        }

        // Every MAC is checked before anything is sent, so a bad inventory row fails loudly rather than half-working.
        var packets = new List<byte[]>(command.MacAddresses.Count);
        foreach (var mac in command.MacAddresses)
        {
            if (!TryBuildMagicPacket(mac, out var packet))
            {
                return Fail(command, $"{command.Hostname}: malformed MAC address '{mac}'");
            }

            packets.Add(packet);
        }

        if (!IPAddress.TryParse(options.BroadcastAddress, out var address) || options.Port is < 1 or > IPEndPoint.MaxPort)
        {
            return Fail(command, $"Wake-on-LAN is misconfigured: '{options.BroadcastAddress}:{options.Port}' is not an address and port");
        }

        var target = new IPEndPoint(address, options.Port);
        using var udp = new UdpClient(address.AddressFamily) { EnableBroadcast = true };
        var repeats = Math.Max(1, options.Repeats);
        try
        {
            for (var round = 0; round < repeats; round++)
            {
                if (round > 0 && options.RepeatGap > TimeSpan.Zero)
                {
                    await Task.Delay(options.RepeatGap, _time, ct);
                }

                foreach (var packet in packets)
                {
                    await udp.SendAsync(packet, target, ct);
                }
            }
        }
        catch (SocketException e)
        {
            // No route, or broadcast refused by the host firewall: the agent's network, not the machine, is at fault.
            return Fail(command, $"{command.Hostname}: sending the magic packet via {target} failed ({e.SocketErrorCode})");
        }

        logger.LogInformation("Magic packet sent {Repeats} times to {MacCount} MACs of {MachineId} via {Target}",
            repeats, packets.Count, command.MachineId, target);
        var macs = packets.Count == 1 ? "1 MAC" : $"{packets.Count} MACs";
        return new CommandResult(command.Id, true, $"magic packet sent to {macs} via {target}");
    }

    /// <summary>Builds the 102-byte magic packet for a 48-bit MAC written as <c>AA:BB:CC:DD:EE:FF</c> (or with dashes).</summary>
    private static bool TryBuildMagicPacket(string mac, out byte[] packet)
    {
        packet = [];
        // PhysicalAddress also accepts bare hex and EUI-64; only a colon- or dash-separated 48-bit MAC is a valid inventory value.
        if (mac.Length != 17 || !PhysicalAddress.TryParse(mac, out var parsed) || parsed.GetAddressBytes() is not { Length: MacLength } bytes)
        {
            return false;
        }

        packet = new byte[PacketLength];
        packet.AsSpan(0, MacLength).Fill(0xFF);
        for (var i = 1; i <= MacRepetitions; i++)
        {
            bytes.CopyTo(packet, i * MacLength);
        }

        return true;
    }

    private CommandResult Fail(LeasedCommand command, string detail)
    {
        logger.LogWarning("Wake-on-LAN for {MachineId} failed: {Detail}", command.MachineId, detail);
        return new CommandResult(command.Id, false, detail);
    }
}
