namespace Reimage.Orchestrator.Sites;

/// <summary>A person who does the hands-on steps at one site.</summary>
public sealed class Technician
{
    public Guid Id { get; set; }

    public Guid SiteId { get; set; }

    public required string Name { get; set; }

    /// <summary>Building the technician usually works in, used to keep walking distances short.</summary>
    public string? Building { get; set; }

    public bool Active { get; set; } = true;
}
