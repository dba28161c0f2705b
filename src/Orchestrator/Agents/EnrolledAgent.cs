namespace Reimage.Orchestrator.Agents;

/// <summary>
/// A site agent that enrolled with a one-time token. The server keeps only the SHA-256 of the agent's secret
/// (a 256-bit random value, so a fast hash is enough: there is nothing to brute-force); the agent keeps the secret.
/// </summary>
public sealed class EnrolledAgent
{
    public Guid Id { get; set; }

    public Guid SiteId { get; set; }

    public required string Name { get; set; }

    public string? Platform { get; set; }

    public required byte[] CredentialHash { get; set; }

    public DateTimeOffset EnrolledAt { get; set; }

    public DateTimeOffset? RotatedAt { get; set; }

    public DateTimeOffset? LastSeenAt { get; set; }

    /// <summary>Commands the agent said it had in flight at its last heartbeat.</summary>
    public int InFlight { get; set; }

    public string? Version { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public string? RevokedBy { get; set; }
}

/// <summary>What a secret-bearing token is for: enrolling an agent, or phoning home from a task sequence.</summary>
public enum TokenPurpose
{
    Enrolment,
    PhoneHome,
}

/// <summary>
/// A token a lead issues for one site: a one-time enrolment token (used up by the agent that enrols with it, valid
/// for hours), or a phone-home token for that site's task sequences (reusable until revoked). Only a hash is stored;
/// the token is shown once.
/// </summary>
public sealed class SiteToken
{
    public Guid Id { get; set; }

    public Guid SiteId { get; set; }

    public TokenPurpose Purpose { get; set; }

    public required byte[] SecretHash { get; set; }

    public required string CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? UsedAt { get; set; }

    public Guid? UsedByAgentId { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}
