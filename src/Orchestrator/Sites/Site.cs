namespace Reimage.Orchestrator.Sites;

/// <summary>A physical location with its own technicians, imaging capacity and site agent.</summary>
public sealed class Site
{
    public Guid Id { get; set; }

    /// <summary>Short code used in imports and on screen (e.g. "RUH-HQ"); unique, case-insensitive.</summary>
    public required string Code { get; set; }

    public required string Name { get; set; }

    /// <summary>IANA time zone id; shifts and event times are shown in it.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>How many machines the site can network-boot and image at once.</summary>
    public int ImagingSlots { get; set; } = 25;

    /// <summary>
    /// The site is imaged from couriered USB media instead of over the network (too little bandwidth): a machine
    /// then also needs one of the site's <see cref="SpareStock.UsbMedia"/> while it boots and images.
    /// </summary>
    public bool ImagesFromUsb { get; set; }

    /// <summary>How many hands-on steps one technician on shift may hold at once (their queue).</summary>
    public int HandsOnPerTechnician { get; set; } = 3;

    public DateTimeOffset CreatedAt { get; set; }
}
