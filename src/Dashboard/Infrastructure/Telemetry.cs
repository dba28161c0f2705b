using OpenTelemetry.Metrics;
using Reimage.Orchestrator.Infrastructure;

namespace Reimage.Dashboard.Infrastructure;

public static class Telemetry
{
    /// <summary>Prometheus text exposition of Reimage's meter (and the host's basics) at <c>/metrics</c>.</summary>
    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ReimageMetrics.MeterName)
            .AddPrometheusExporter());
        return builder;
    }
}
