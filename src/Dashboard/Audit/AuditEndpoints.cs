using Npgsql;
using Reimage.Dashboard.Infrastructure;
using Reimage.Orchestrator.Audit;

namespace Reimage.Dashboard.Audit;

/// <summary>
/// The signed audit checkpoints, for leads and admins: <c>GET /api/audit/checkpoints?after=N</c> (the checkpoint files
/// after N, as a JSON array, to keep outside Reimage and to verify with <c>verify-audit --checkpoints</c>) and
/// <c>GET /api/audit/checkpoint-key</c> (the public key that verifies them). Sealed by <see cref="Checkpoints"/>.
/// </summary>
public static class AuditEndpoints
{
    public static WebApplication MapAuditApi(this WebApplication app)
    {
        app.MapGet("/api/audit/checkpoints", async (long? after, NpgsqlDataSource db, CancellationToken ct) =>
        {
            if (after < 0)
            {
                return Results.Problem(title: "after must be a checkpoint number (0 or more)", statusCode: StatusCodes.Status400BadRequest);
            }

            var checkpoints = await Checkpoints.ReadAllAsync(db, after ?? 0, ct);
            return Results.Text("[" + string.Join(",\n", checkpoints.Select(c => c.ToJson())) + "]", "application/json");
        }).RequireAuthorization(Policies.Lead);

        app.MapGet("/api/audit/checkpoint-key", (Checkpoints checkpoints) =>
            Results.Ok(new { algorithm = "Ed25519", publicKey = checkpoints.PublicKeyHex, keyId = checkpoints.KeyId }))
            .RequireAuthorization(Policies.Lead);
        return app;
    }
}
