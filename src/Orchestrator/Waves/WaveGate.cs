namespace Reimage.Orchestrator.Waves;

/// <summary>
/// A dependency between waves: machines of <see cref="WaveId"/> are admitted only once at least
/// <see cref="RestoredPercent"/> % of the machines of <see cref="DependsOnWaveId"/> are Restored
/// ("Everyone else starts when Identity is 100 % Restored").
/// </summary>
public sealed class WaveGate
{
    public Guid WaveId { get; set; }

    public Guid DependsOnWaveId { get; set; }

    public int RestoredPercent { get; set; } = 100;
}
