using System.Security.Claims;
using Reimage.Dashboard.Infrastructure;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Import;

/// <summary><c>POST /api/import/site-rules</c>: a rule placing rows without a site (kind: Location, OrganizationalUnit, Subnet, HostnamePrefix).</summary>
public sealed record NewSiteRule(string? Kind, string? Pattern, string? Site, int? Position);

/// <summary>Configuration section <c>Reimage:Import</c>.</summary>
public sealed class ImportLimits
{
    public const string Section = "Reimage:Import";

    /// <summary>Largest import file accepted, in MB, over the API and the page (a 100,000-machine inventory is about 20 MB).</summary>
    public int MaxFileMegabytes { get; set; } = 64;

    public long MaxFileBytes => MaxFileMegabytes * 1024L * 1024L;
}

public static class ImportEndpoints
{
    public static WebApplicationBuilder AddImportLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ImportLimits>().BindConfiguration(ImportLimits.Section)
            .Validate(o => o.MaxFileMegabytes is >= 1 and <= 4096, "Reimage:Import:MaxFileMegabytes must be 1 to 4096.")
            .ValidateOnStart();
        return builder;
    }

    /// <summary>
    /// <c>POST /api/import</c>: the request body is the CSV file (any content type), or a multipart form with a
    /// <c>file</c> field. <c>?site=CODE</c> gives new machines whose row names no site their site; <c>?dryRun=true</c> validates
    /// only; <c>?createSites=true</c> creates sites the file names that do not exist (otherwise they are errors);
    /// <c>?replaceMacs=true</c> replaces a machine's MACs with the row's instead of adding them.
    /// 200 with the report when imported (or valid, for a dry run); 422 with the report (every error, by line and column)
    /// when the file was rejected and nothing was written; 400 when there is no file; 413 when it is too large.
    /// </summary>
    public static WebApplication MapImportApi(this WebApplication app)
    {
        var limits = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ImportLimits>>().Value;
        var maxFileBytes = limits.MaxFileBytes;
        app.MapPost("/api/import", async (HttpRequest request, FleetImporter importer, ClaimsPrincipal user, string? site, bool? dryRun, bool? createSites, bool? replaceMacs, CancellationToken ct) =>
        {
            if (request.ContentLength > maxFileBytes)
            {
                return Results.Problem($"The file is larger than {limits.MaxFileMegabytes} MB.", statusCode: StatusCodes.Status413PayloadTooLarge);
            }

            Stream body;
            if (request.HasFormContentType)
            {
                var form = await request.ReadFormAsync(ct);
                var file = form.Files.GetFile("file");
                if (file is null)
                {
                    return Results.Problem("The form has no 'file' field.", statusCode: StatusCodes.Status400BadRequest);
                }

                body = file.OpenReadStream();
            }
            else
            {
                // Buffered so the importer can sniff the encoding and delimiter; bounded by maxFileBytes.
                var buffer = new MemoryStream();
                await request.Body.CopyToAsync(buffer, ct);
                if (buffer.Length == 0)
                {
                    return Results.Problem("The request body is empty: send the CSV file as the body.", statusCode: StatusCodes.Status400BadRequest);
                }

                buffer.Position = 0;
                body = buffer;
            }

            await using (body)
            {
                var actor = new Actor(user.Identity?.Name ?? "unknown", $"api {request.HttpContext.Connection.RemoteIpAddress}");
                var report = await importer.ImportAsync(body, new ImportOptions(site, dryRun ?? false, createSites ?? false, replaceMacs ?? false), actor, ct);
                return report.Errors.Count == 0 ? Results.Ok(report) : Results.UnprocessableEntity(report);
            }
        })
        .RequireAuthorization(Policies.Lead)
        .DisableAntiforgery()
        .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(maxFileBytes));

        // The site rules: how rows that name no site (an Active Directory export) are placed. A dry run shows the result.
        var rules = app.MapGroup("/api/import/site-rules").RequireAuthorization(Policies.Lead);
        rules.MapGet("/", (SiteRules siteRules, CancellationToken ct) => siteRules.ListAsync(ct));
        rules.MapPost("/", async (NewSiteRule body, SiteRules siteRules, ClaimsPrincipal user, HttpContext http, CancellationToken ct) =>
        {
            var result = await siteRules.AddAsync(body.Kind, body.Pattern, body.Site, body.Position,
                new Actor(user.Identity?.Name ?? "unknown", $"api {http.Connection.RemoteIpAddress}"), ct);
            return result.Outcome switch
            {
                SiteRuleOutcome.Added => Results.Created($"/api/import/site-rules/{result.Rule!.Id}",
                    new { result.Rule.Id, Kind = result.Rule.Kind.ToString(), result.Rule.Pattern, result.Rule.Position }),
                SiteRuleOutcome.NoSuchSite => Results.ValidationProblem(new Dictionary<string, string[]> { ["site"] = [result.Error!] }),
                _ => Results.ValidationProblem(new Dictionary<string, string[]> { ["rule"] = [result.Error!] }),
            };
        });
        rules.MapDelete("/{id:guid}", async (Guid id, SiteRules siteRules, CancellationToken ct) =>
            await siteRules.RemoveAsync(id, ct) ? Results.NoContent() : Results.NotFound());
        return app;
    }
}
