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

    public DateTimeOffset CreatedAt { get; set; }
}
