using System.Diagnostics.Metrics;

namespace Reimage.Orchestrator.Infrastructure;

/// <summary>The process's Reimage instruments; exported to Prometheus by the Dashboard host.</summary>
public static class ReimageMetrics
{
    public const string MeterName = "Reimage";

    public static readonly Meter Meter = new(MeterName);

    /// <summary>Recovery transitions written by this process (exported as <c>reimage_transitions_total</c>).</summary>
    public static readonly Counter<long> Transitions =
        Meter.CreateCounter<long>("reimage_transitions", description: "Recovery state and step transitions written.");

    /// <summary>Restarts of the private PostgreSQL cluster after it died (exported as <c>reimage_private_postgres_restarts_total</c>).</summary>
    public static readonly Counter<long> PrivatePostgresRestarts =
        Meter.CreateCounter<long>("reimage_private_postgres_restarts", description: "Restarts of the private PostgreSQL cluster after it stopped running.");
}
