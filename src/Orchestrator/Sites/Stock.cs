namespace Reimage.Orchestrator.Sites;

/// <summary>
/// Spare parts of one kind at one site: a drive type (matched to <see cref="Machines.Machine.DiskType"/>) or
/// <see cref="UsbMedia"/>. A drive is reserved when its machine is admitted and consumed when it is fitted;
/// USB media are lent to a machine while it images and come back.
/// </summary>
public sealed class SpareStock
{
    public const string UsbMedia = "USB-media";

    public Guid SiteId { get; set; }

    public required string Item { get; set; }

    public int OnHand { get; set; }

    /// <summary>Of <see cref="OnHand"/>, how many are promised to admitted machines.</summary>
    public int Reserved { get; set; }
}

/// <summary>Parts on their way to a site (expected) or arrived (received, added to its stock).</summary>
public sealed class Delivery
{
    public Guid Id { get; set; }

    public Guid SiteId { get; set; }

    public required string Item { get; set; }

    public int Quantity { get; set; }

    /// <summary>Carrier, purchase order or courier reference.</summary>
    public string? Reference { get; set; }

    public DateTimeOffset? ExpectedAt { get; set; }

    public DateTimeOffset? ReceivedAt { get; set; }

    public string? ReceivedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>Something a lead must act on (machines awaiting parts); one open alert per site, kind and subject.</summary>
public sealed class Alert
{
    public long Id { get; set; }

    public Guid? SiteId { get; set; }

    public required string Kind { get; set; }

    /// <summary>What the alert is about within its kind, e.g. the drive type that ran out.</summary>
    public required string Subject { get; set; }

    public required string Message { get; set; }

    public DateTimeOffset RaisedAt { get; set; }

    public DateTimeOffset? ResolvedAt { get; set; }
}
