using Reimage.Dashboard.Infrastructure;

namespace Reimage.Dashboard.Forecast;

/// <summary>The forecast for leads and executives: the last one, a fresh one, and what-if comparisons.</summary>
public static class ForecastEndpoints
{
    public static WebApplicationBuilder AddForecast(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ForecastService>();
        return builder;
    }

    public static WebApplication MapForecastApi(this WebApplication app)
    {
        var forecast = app.MapGroup("/api/forecast").RequireAuthorization(Policies.Executive);
        forecast.MapGet("/", (ForecastService service) =>
            service.Last is { } last ? Results.Ok(last) : Results.NotFound(new { error = "no forecast yet: POST /api/forecast makes one" }));
        forecast.MapPost("/", async (ForecastService service, CancellationToken ct) => Results.Ok(await service.ForecastAsync(ct)));
        forecast.MapPost("/what-if", async (WhatIfRequest body, ForecastService service, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (body.ChangesASite && string.IsNullOrWhiteSpace(body.Site))
            {
                errors["site"] = ["the site code the change applies to"];
            }

            if (body.WaveOrder is { } order && (order.Count > 1000 || order.Any(string.IsNullOrWhiteSpace) || order.Distinct(StringComparer.OrdinalIgnoreCase).Count() != order.Count))
            {
                errors["waveOrder"] = ["wave names, each once, first to go first"];
            }

            if (body.Technicians is < 0 or > 500 || body.Slots is < 0 or > 5000 || body.DeliveryQuantity is < 0 or > 100_000 || body.DeliveryInDays is < 0 or > 365)
            {
                errors["change"] = ["technicians 0–500, slots 0–5,000, delivery quantity 0–100,000 arriving in 0–365 days"];
            }

            if (!body.ChangesASite && body.WaveOrder is not { Count: > 0 })
            {
                errors["change"] = ["at least one change: technicians, slots, a delivery or a wave order"];
            }

            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors);
            }

            try
            {
                return Results.Ok(await service.WhatIfAsync(body, ct));
            }
            catch (WhatIfRefusedException e)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { [e.Field] = [e.Message] });
            }
        });
        return app;
    }
}
