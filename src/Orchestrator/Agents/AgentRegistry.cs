using Npgsql;

namespace Reimage.Orchestrator.Agents;

/// <summary>An authenticated agent: which one, and the only site it may see and act on.</summary>
public sealed record AgentIdentity(Guid AgentId, Guid SiteId, string Name);

/// <summary>An agent as the lead's page shows it.</summary>
/// <summary>A site token as a lead sees it: never its secret.</summary>
public sealed record TokenStatus(Guid Id, string SiteCode, [property: System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<TokenPurpose>))] TokenPurpose Purpose, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt,
    DateTimeOffset? UsedAt, DateTimeOffset? RevokedAt, string? RevokedBy);

public sealed record AgentStatus(Guid Id, string Name, string SiteCode, string? Platform, string? Version, DateTimeOffset EnrolledAt,
    DateTimeOffset? LastSeenAt, int InFlight, bool Online, DateTimeOffset? RevokedAt);

/// <summary>An enrolment or token request the rules refuse; the message is safe to show (it never echoes a secret).</summary>
public sealed class AgentAuthException(string message) : Exception(message);

/// <summary>
/// Site agents' identities: one-time enrolment tokens issued by leads, enrolment (a token buys one credential),
/// authentication of every agent call, heartbeats, rotation and revocation; and the site-scoped phone-home tokens
/// task sequences use. Secrets are shown once and stored only as hashes.
/// </summary>
public sealed class AgentRegistry(NpgsqlDataSource db, TimeProvider clock)
{
    public const string AgentPrefix = "rag";
    public const string EnrolmentPrefix = "ren";
    public const string PhoneHomePrefix = "rph";

    public async Task<(string Token, DateTimeOffset? ExpiresAt)> IssueTokenAsync(Guid siteId, TokenPurpose purpose, string createdBy, TimeSpan? lifetime, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        var (token, hash) = Secrets.Issue(purpose == TokenPurpose.Enrolment ? EnrolmentPrefix : PhoneHomePrefix, id);
        var now = clock.GetUtcNow();
        DateTimeOffset? expires = lifetime is null ? null : now + lifetime.Value;
        await using var insert = db.CreateCommand(
            """
            INSERT INTO reimage.site_tokens (id, site_id, purpose, secret_hash, created_by, created_at, expires_at)
            SELECT @id, s.id, @purpose, @hash, @by, @now, @expires FROM reimage.sites s WHERE s.id = @site
            """);
        insert.Parameters.AddWithValue("id", id);
        insert.Parameters.AddWithValue("site", siteId);
        insert.Parameters.AddWithValue("purpose", purpose.ToString());
        insert.Parameters.AddWithValue("hash", hash);
        insert.Parameters.AddWithValue("by", createdBy);
        insert.Parameters.AddWithValue("now", now);
        insert.Parameters.AddWithValue("expires", (object?)expires ?? DBNull.Value);
        return await insert.ExecuteNonQueryAsync(ct) == 1 ? (token, expires) : throw new AgentAuthException($"site {siteId} does not exist");
    }

    /// <summary>Uses up an enrolment token and creates the agent; returns its identity and credential (the only time the secret exists outside the agent).</summary>
    public async Task<(AgentIdentity Agent, string Credential)> EnrolAsync(string token, string name, string? platform, CancellationToken ct)
    {
        if (!Secrets.TryParse(token, EnrolmentPrefix, out var tokenId, out var secret))
        {
            throw new AgentAuthException("not an enrolment token");
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var now = clock.GetUtcNow();
        Guid siteId;
        await using (var select = new NpgsqlCommand(
            "SELECT site_id, secret_hash, expires_at, used_at, revoked_at FROM reimage.site_tokens WHERE id = @id AND purpose = 'Enrolment' FOR UPDATE", connection, transaction))
        {
            select.Parameters.AddWithValue("id", tokenId);
            await using var reader = await select.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct) || !Secrets.Matches(secret, reader.GetFieldValue<byte[]>(1)))
            {
                throw new AgentAuthException("unknown enrolment token");
            }

            if (!reader.IsDBNull(3) || !reader.IsDBNull(4) || (!reader.IsDBNull(2) && reader.GetFieldValue<DateTimeOffset>(2) < now))
            {
                throw new AgentAuthException("this enrolment token was already used, revoked or has expired; ask a lead for a new one");
            }

            siteId = reader.GetGuid(0);
        }

        var agentId = Guid.CreateVersion7();
        var (credential, hash) = Secrets.Issue(AgentPrefix, agentId);
        await using (var insert = new NpgsqlCommand(
            """
            INSERT INTO reimage.agents (id, site_id, name, platform, credential_hash, enrolled_at, last_seen_at, in_flight)
            VALUES (@id, @site, @name, @platform, @hash, @now, @now, 0);
            UPDATE reimage.site_tokens SET used_at = @now, used_by_agent_id = @id WHERE id = @token;
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", agentId);
            insert.Parameters.AddWithValue("site", siteId);
            insert.Parameters.AddWithValue("name", name);
            insert.Parameters.AddWithValue("platform", (object?)platform ?? DBNull.Value);
            insert.Parameters.AddWithValue("hash", hash);
            insert.Parameters.AddWithValue("now", now);
            insert.Parameters.AddWithValue("token", tokenId);
            await insert.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return (new AgentIdentity(agentId, siteId, name), credential);
    }

    /// <summary>The agent presenting <paramref name="credential"/>, or null (unknown, wrong secret, or revoked). Marks it seen.</summary>
    public async Task<AgentIdentity?> AuthenticateAsync(string? credential, CancellationToken ct)
    {
        if (!Secrets.TryParse(credential, AgentPrefix, out var id, out var secret))
        {
            return null;
        }

        await using var select = db.CreateCommand("SELECT site_id, name, credential_hash, revoked_at, last_seen_at FROM reimage.agents WHERE id = @id");
        select.Parameters.AddWithValue("id", id);
        AgentIdentity identity;
        DateTimeOffset? lastSeen;
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct) || !reader.IsDBNull(3) || !Secrets.Matches(secret, reader.GetFieldValue<byte[]>(2)))
            {
                return null;
            }

            identity = new AgentIdentity(id, reader.GetGuid(0), reader.GetString(1));
            lastSeen = reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4);
        }

        // Every call is a sign of life; written at most every few seconds so a busy agent does not hammer the row.
        var now = clock.GetUtcNow();
        if (lastSeen is null || now - lastSeen > TimeSpan.FromSeconds(5))
        {
            await using var seen = db.CreateCommand("UPDATE reimage.agents SET last_seen_at = @now WHERE id = @id");
            seen.Parameters.AddWithValue("id", id);
            seen.Parameters.AddWithValue("now", now);
            await seen.ExecuteNonQueryAsync(ct);
        }

        return identity;
    }

    public async Task HeartbeatAsync(Guid agentId, int inFlight, string? version, CancellationToken ct)
    {
        await using var beat = db.CreateCommand("UPDATE reimage.agents SET last_seen_at = @now, in_flight = @n, version = @v WHERE id = @id");
        beat.Parameters.AddWithValue("id", agentId);
        beat.Parameters.AddWithValue("now", clock.GetUtcNow());
        beat.Parameters.AddWithValue("n", Math.Max(0, inFlight));
        beat.Parameters.AddWithValue("v", (object?)version ?? DBNull.Value);
        await beat.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Replaces the agent's credential; the old one stops working at once.</summary>
    public async Task<string> RotateAsync(Guid agentId, CancellationToken ct)
    {
        var (credential, hash) = Secrets.Issue(AgentPrefix, agentId);
        await using var rotate = db.CreateCommand("UPDATE reimage.agents SET credential_hash = @hash, rotated_at = @now WHERE id = @id AND revoked_at IS NULL");
        rotate.Parameters.AddWithValue("id", agentId);
        rotate.Parameters.AddWithValue("hash", hash);
        rotate.Parameters.AddWithValue("now", clock.GetUtcNow());
        return await rotate.ExecuteNonQueryAsync(ct) == 1 ? credential : throw new AgentAuthException("the agent is revoked");
    }

    /// <summary>Revokes an agent: its next call is refused, and commands it holds are offered again when their leases lapse.</summary>
    public async Task<bool> RevokeAsync(Guid agentId, string by, CancellationToken ct)
    {
        await using var revoke = db.CreateCommand("UPDATE reimage.agents SET revoked_at = @now, revoked_by = @by WHERE id = @id AND revoked_at IS NULL");
        revoke.Parameters.AddWithValue("id", agentId);
        revoke.Parameters.AddWithValue("by", by);
        revoke.Parameters.AddWithValue("now", clock.GetUtcNow());
        return await revoke.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>The site a phone-home token speaks for and the token's id, or null (unknown, revoked or expired).</summary>
    public async Task<(Guid SiteId, Guid TokenId)?> AuthenticatePhoneHomeAsync(string? token, CancellationToken ct)
    {
        if (!Secrets.TryParse(token, PhoneHomePrefix, out var id, out var secret))
        {
            return null;
        }

        await using var select = db.CreateCommand(
            "SELECT site_id, secret_hash FROM reimage.site_tokens WHERE id = @id AND purpose = 'PhoneHome' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > @now)");
        select.Parameters.AddWithValue("id", id);
        select.Parameters.AddWithValue("now", clock.GetUtcNow());
        await using var reader = await select.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) && Secrets.Matches(secret, reader.GetFieldValue<byte[]>(1)) ? (reader.GetGuid(0), id) : null;
    }

    /// <summary>Every token of every site (never a secret): what a lead reviews and revokes.</summary>
    public async Task<IReadOnlyList<TokenStatus>> ListTokensAsync(CancellationToken ct)
    {
        await using var select = db.CreateCommand(
            """
            SELECT t.id, s.code, t.purpose, t.created_by, t.created_at, t.expires_at, t.used_at, t.revoked_at, t.revoked_by
            FROM reimage.site_tokens t JOIN reimage.sites s ON s.id = t.site_id ORDER BY t.created_at DESC
            """);
        var tokens = new List<TokenStatus>();
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            DateTimeOffset? At(int i) => reader.IsDBNull(i) ? null : reader.GetFieldValue<DateTimeOffset>(i);
            tokens.Add(new TokenStatus(reader.GetGuid(0), reader.GetString(1), Enum.Parse<TokenPurpose>(reader.GetString(2)), reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4), At(5), At(6), At(7), reader.IsDBNull(8) ? null : reader.GetString(8)));
        }

        return tokens;
    }

    /// <summary>Revokes a token: an enrolment token can no longer enrol, a phone-home token no longer reports. False when there is no such live token.</summary>
    public async Task<bool> RevokeTokenAsync(Guid tokenId, string by, CancellationToken ct)
    {
        await using var revoke = db.CreateCommand("UPDATE reimage.site_tokens SET revoked_at = @now, revoked_by = @by WHERE id = @id AND revoked_at IS NULL");
        revoke.Parameters.AddWithValue("id", tokenId);
        revoke.Parameters.AddWithValue("by", by);
        revoke.Parameters.AddWithValue("now", clock.GetUtcNow());
        return await revoke.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>All agents; one not heard from for <paramref name="offlineAfter"/> is shown offline (its leases lapse meanwhile and its commands go to another agent of the site, or to the step's timeout policy).</summary>
    public async Task<IReadOnlyList<AgentStatus>> ListAsync(TimeSpan offlineAfter, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var select = db.CreateCommand(
            """
            SELECT a.id, a.name, s.code, a.platform, a.version, a.enrolled_at, a.last_seen_at, a.in_flight, a.revoked_at
            FROM reimage.agents a JOIN reimage.sites s ON s.id = a.site_id ORDER BY s.code, a.name
            """);
        var agents = new List<AgentStatus>();
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            DateTimeOffset? seen = reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6);
            DateTimeOffset? revoked = reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8);
            agents.Add(new AgentStatus(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5), seen, reader.GetInt32(7),
                Online: revoked is null && seen is not null && now - seen < offlineAfter, revoked));
        }

        return agents;
    }
}
