namespace Reimage.Orchestrator.Sites;

/// <summary>
/// A shift hand-over note: what the outgoing lead wants the next shift to know (a site's, or everyone's when no site
/// is named). Notes are never edited or deleted; a correction is a new note.
/// </summary>
public sealed class HandoverNote
{
    public const int MaxText = 2000;

    public Guid Id { get; set; }

    /// <summary>The site the note is about; null for the whole recovery.</summary>
    public Guid? SiteId { get; set; }

    public required string Author { get; set; }

    public required string Text { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
