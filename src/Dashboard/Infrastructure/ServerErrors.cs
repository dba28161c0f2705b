using Microsoft.AspNetCore.Diagnostics;

namespace Reimage.Dashboard.Infrastructure;

/// <summary>
/// The answer to an unhandled error outside Development. The exception (with its stack trace) goes to the log under the
/// request's correlation id; the client gets only that id: a problem document for the APIs (here), the error page for
/// pages (the exception handler's re-execution of <c>/Error</c>).
/// </summary>
public sealed class ServerErrors : IExceptionHandler
{
    private static readonly string[] ApiPrefixes = ["/api", "/agent", "/phone-home", "/healthz", "/metrics"];

    public static string CorrelationId(HttpContext context) => System.Diagnostics.Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        // The handler runs with the request re-pointed at the error page: the path that failed is in the feature.
        var path = httpContext.Features.Get<IExceptionHandlerPathFeature>()?.Path ?? httpContext.Request.Path.Value ?? "";
        if (!ApiPrefixes.Any(p => path.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }

        httpContext.Response.StatusCode = StatusCodes.Status500InternalServerError;
        await httpContext.Response.WriteAsJsonAsync(new
        {
            type = "https://tools.ietf.org/html/rfc9110#section-15.6.1",
            title = "The server could not answer this request",
            status = 500,
            detail = "The error is logged on the server under this correlation id; quote it when you report the problem.",
            correlationId = CorrelationId(httpContext),
        }, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", cancellationToken);
        return true;
    }
}
