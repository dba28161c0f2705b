namespace Reimage.Agents.Protocol;

// The bodies of /agent/v1, as the server's endpoints read and write them and the agent's HTTPS transport sends and
// reads them (JSON, camelCase). Commands and results travel as LeasedCommand and CommandResult.

/// <summary><c>POST /agent/v1/enrol</c>: the one-time token a lead created, and the name the agent is shown by.</summary>
public sealed record EnrolRequest(string? Token, string? Name, string? Platform);

/// <summary>The enrolled agent and its credential; the credential is shown this once, the server keeps only its hash.</summary>
public sealed record EnrolResponse(Guid AgentId, Guid SiteId, string Credential);

/// <summary><c>POST /agent/v1/commands/lease</c>: at most <see cref="Max"/> commands, waiting up to <see cref="WaitSeconds"/> for work.</summary>
public sealed record LeaseRequest(int Max, int WaitSeconds);

/// <summary>
/// <c>POST /agent/v1/results</c> answers how many results arrived, how many were new, and which were refused on
/// their own (a NUL or an unpaired surrogate in the detail, a detail too long): those are never recorded.
/// </summary>
public sealed record ResultsReceipt(int Received, int Recorded, IReadOnlyList<RefusedResult> Refused);

/// <summary><c>POST /agent/v1/heartbeat</c>.</summary>
public sealed record Heartbeat(int InFlight, string? Version);

/// <summary><c>POST /agent/v1/credential/rotate</c> answers the new credential; the old one no longer works.</summary>
public sealed record CredentialRotated(string Credential);
