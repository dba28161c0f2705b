using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Reimage.Orchestrator.Waves;

internal sealed class WaveConfiguration : IEntityTypeConfiguration<Wave>
{
    public void Configure(EntityTypeBuilder<Wave> b)
    {
        b.ToTable("waves");
        b.Property(w => w.Name).HasMaxLength(128);
        b.Property(w => w.ApprovedBy).HasMaxLength(128);
        b.HasIndex(w => w.Name).IsUnique();
    }
}

internal sealed class WaveGateConfiguration : IEntityTypeConfiguration<WaveGate>
{
    public void Configure(EntityTypeBuilder<WaveGate> b)
    {
        b.ToTable("wave_gates", t => t.HasCheckConstraint("ck_wave_gates_percent", "restored_percent BETWEEN 1 AND 100"));
        b.HasKey(g => new { g.WaveId, g.DependsOnWaveId });
        b.HasOne<Wave>().WithMany().HasForeignKey(g => g.WaveId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Wave>().WithMany().HasForeignKey(g => g.DependsOnWaveId).OnDelete(DeleteBehavior.Restrict);
    }
}
