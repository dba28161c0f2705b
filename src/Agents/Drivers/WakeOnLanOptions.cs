namespace Reimage.Agents.Drivers;

/// <summary>
/// Where the <see cref="WakeOnLanDriver"/> sends magic packets. Configuration section <c>Agent:WakeOnLan</c>.
/// </summary>
public sealed record WakeOnLanOptions
{
    public const string Section = "Agent:WakeOnLan";

    /// <summary>
    /// The limited broadcast reaches only the agent's own segment; a site whose PCs sit on other VLANs needs the
    /// subnet's directed broadcast here (and the router configured to forward it).
    /// </summary>
    public string BroadcastAddress { get; init; } = "255.255.255.255";

    /// <summary>UDP 9 (discard) is what NIC firmware listens for; some sites standardise on 7.</summary>
    public int Port { get; init; } = 9;

    /// <summary>UDP is fire-and-forget and switches drop the odd broadcast, so each MAC gets the packet more than once.</summary>
    public int Repeats { get; init; } = 3;

    /// <summary>Spaces the repeats so one burst of loss on a busy segment does not swallow all of them.</summary>
    public TimeSpan RepeatGap { get; init; } = TimeSpan.FromMilliseconds(100);
}
