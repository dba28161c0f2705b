using System.Security.Claims;
using Reimage.Dashboard.Agents;
using Reimage.Dashboard.Infrastructure;
using Reimage.Orchestrator.Imaging;

namespace Reimage.Dashboard.Imaging;

public sealed record NewImage(string? Name, string? Version, string? Sha256);

/// <summary>Phone-home from imaging task sequences (site-scoped token, rate-limited) and the golden image catalog for leads.</summary>
public static class ImagingEndpoints
{
    public static WebApplication MapImagingApi(this WebApplication app)
    {
        app.MapPost("/phone-home/v1/events", async (PhoneHomeEvent body, ClaimsPrincipal user, PhoneHome phoneHome, CancellationToken ct) =>
        {
            var errors = PhoneHome.Validate(body);
            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors);
            }

            var (outcome, message) = await phoneHome.ReportAsync(SiteClaims.SiteOf(user), body, ct, SiteClaims.TokenOf(user));
            return outcome switch
            {
                PhoneHomeOutcome.Accepted => Results.Json(new { result = message }, statusCode: StatusCodes.Status202Accepted),
                PhoneHomeOutcome.Ignored => Results.Ok(new { result = message }),
                _ => Results.NotFound(new { error = message }),
            };
        }).RequireAuthorization(Policies.PhoneHome).RequireRateLimiting(AgentEndpoints.PhoneHomeLimit);

        var images = app.MapGroup("/api/images").RequireAuthorization(Policies.Lead);
        images.MapGet("/", (ImageCatalog catalog, CancellationToken ct) => catalog.ListAsync(ct));
        images.MapPost("/", async (NewImage body, ImageCatalog catalog, ClaimsPrincipal user, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Trim().Length > 64)
            {
                errors["name"] = ["the image profile machines refer to, 1 to 64 characters"];
            }

            if (string.IsNullOrWhiteSpace(body.Version) || body.Version.Trim().Length > 64)
            {
                errors["version"] = ["1 to 64 characters"];
            }

            if (body.Sha256 is null || !PhoneHome.IsSha256(body.Sha256.Trim()))
            {
                errors["sha256"] = ["the image file's SHA-256, 64 hexadecimal characters"];
            }

            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors);
            }

            var (added, id) = await catalog.AddAsync(body.Name!.Trim(), body.Version!.Trim(), body.Sha256!.Trim(), user.Identity?.Name ?? "unknown", ct);
            return added ? Results.Created($"/api/images/{id}", new { id }) : Results.Conflict(new { error = $"{body.Name!.Trim()} {body.Version!.Trim()} is already in the catalog" });
        });
        images.MapPost("/{id:guid}/approve", async (Guid id, ImageCatalog catalog, ClaimsPrincipal user, CancellationToken ct) =>
            await catalog.ApproveAsync(id, user.Identity?.Name ?? "unknown", ct) switch
            {
                true => Results.Ok(new { id, result = "approved" }),
                false => Results.Conflict(new { error = "already approved" }),
                null => Results.NotFound(new { error = $"image {id} does not exist" }),
            });
        return app;
    }
}
