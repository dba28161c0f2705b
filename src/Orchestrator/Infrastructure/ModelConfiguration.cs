using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Reimage.Orchestrator.Agents;
using Reimage.Orchestrator.Evidence;
using Reimage.Orchestrator.Imaging;
using Reimage.Orchestrator.Machines;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Infrastructure;

internal sealed class SiteConfiguration : IEntityTypeConfiguration<Site>
{
    public void Configure(EntityTypeBuilder<Site> b)
    {
        b.ToTable("sites");
        b.Property(s => s.Code).HasMaxLength(32);
        b.Property(s => s.Name).HasMaxLength(128);
        b.Property(s => s.TimeZone).HasMaxLength(64);
        b.HasIndex(s => s.Code).IsUnique();
        b.Property(s => s.HandsOnPerTechnician).HasDefaultValue(3);
        b.ToTable(t => t.HasCheckConstraint("ck_sites_capacity", "imaging_slots >= 0 AND hands_on_per_technician >= 1"));
    }
}

internal sealed class TechnicianConfiguration : IEntityTypeConfiguration<Technician>
{
    public void Configure(EntityTypeBuilder<Technician> b)
    {
        b.ToTable("technicians");
        b.Property(t => t.Name).HasMaxLength(128);
        b.Property(t => t.Building).HasMaxLength(64);
        b.HasOne<Site>().WithMany().HasForeignKey(t => t.SiteId);
    }
}

internal sealed class ShiftConfiguration : IEntityTypeConfiguration<Shift>
{
    public void Configure(EntityTypeBuilder<Shift> b)
    {
        b.ToTable("shifts", t => t.HasCheckConstraint("ck_shifts_days", "days BETWEEN 1 AND 127"));
        b.Property(s => s.Days).HasConversion<int>();
        b.HasIndex(s => s.TechnicianId);
        b.HasOne<Technician>().WithMany().HasForeignKey(s => s.TechnicianId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SpareStockConfiguration : IEntityTypeConfiguration<SpareStock>
{
    public void Configure(EntityTypeBuilder<SpareStock> b)
    {
        b.ToTable("spare_stock", t => t.HasCheckConstraint("ck_spare_stock_counts", "on_hand >= 0 AND reserved >= 0"));
        b.HasKey(s => new { s.SiteId, s.Item });
        b.Property(s => s.Item).HasMaxLength(32);
        b.HasOne<Site>().WithMany().HasForeignKey(s => s.SiteId);
    }
}

internal sealed class DeliveryConfiguration : IEntityTypeConfiguration<Delivery>
{
    public void Configure(EntityTypeBuilder<Delivery> b)
    {
        b.ToTable("deliveries", t => t.HasCheckConstraint("ck_deliveries_quantity", "quantity > 0"));
        b.Property(d => d.Item).HasMaxLength(32);
        b.Property(d => d.Reference).HasMaxLength(128);
        b.Property(d => d.ReceivedBy).HasMaxLength(128);
        b.HasIndex(d => d.SiteId);
        b.HasOne<Site>().WithMany().HasForeignKey(d => d.SiteId);
    }
}

internal sealed class AlertConfiguration : IEntityTypeConfiguration<Alert>
{
    public void Configure(EntityTypeBuilder<Alert> b)
    {
        b.ToTable("alerts");
        b.Property(a => a.Kind).HasMaxLength(32);
        b.Property(a => a.Subject).HasMaxLength(64);
        b.Property(a => a.Message).HasMaxLength(500);
        b.HasIndex(a => new { a.SiteId, a.Kind, a.Subject }).IsUnique().HasFilter("resolved_at IS NULL").HasDatabaseName("ix_alerts_open");
        b.HasOne<Site>().WithMany().HasForeignKey(a => a.SiteId);
    }
}

internal sealed class HandoverNoteConfiguration : IEntityTypeConfiguration<HandoverNote>
{
    public void Configure(EntityTypeBuilder<HandoverNote> b)
    {
        b.ToTable("handover_notes");
        b.Property(n => n.Author).HasMaxLength(128);
        b.Property(n => n.Text).HasMaxLength(HandoverNote.MaxText);
        b.HasIndex(n => new { n.SiteId, n.CreatedAt });
        b.HasOne<Site>().WithMany().HasForeignKey(n => n.SiteId);
    }
}

internal sealed class MachineConfiguration : IEntityTypeConfiguration<Machine>
{
    public void Configure(EntityTypeBuilder<Machine> b)
    {
        b.ToTable("machines");
        b.Property(m => m.Hostname).HasMaxLength(63);
        b.Property<string>("HostnameKey").HasMaxLength(63)
            .HasComputedColumnSql("lower(hostname)", stored: true);
        b.HasIndex("HostnameKey").IsUnique();
        b.Property(m => m.AssetTag).HasMaxLength(64);
        b.Property(m => m.SerialNumber).HasMaxLength(64);
        b.HasIndex(m => m.SerialNumber).IsUnique();
        b.Property(m => m.IpAddress).HasMaxLength(45);
        b.Property(m => m.Building).HasMaxLength(64);
        b.Property(m => m.Floor).HasMaxLength(16);
        b.Property(m => m.Room).HasMaxLength(32);
        b.Property(m => m.Department).HasMaxLength(64);
        b.Property(m => m.Owner).HasMaxLength(128);
        b.Property(m => m.Model).HasMaxLength(64);
        b.Property(m => m.DiskType).HasMaxLength(32);
        b.Property(m => m.BmcAddress).HasMaxLength(255);
        b.Property(m => m.ImageProfile).HasMaxLength(64);
        b.HasIndex(m => m.MacAddresses).HasMethod("gin");
        b.HasOne<Site>().WithMany().HasForeignKey(m => m.SiteId);
    }
}

internal sealed class MachineEventConfiguration : IEntityTypeConfiguration<MachineEvent>
{
    public void Configure(EntityTypeBuilder<MachineEvent> b)
    {
        b.ToTable("machine_events");
        b.Property(e => e.TimeZone).HasMaxLength(64);
        b.Property(e => e.Actor).HasMaxLength(128);
        b.Property(e => e.Origin).HasMaxLength(128);
        b.Property(e => e.Kind).HasMaxLength(32);
        b.Property(e => e.FromState).HasMaxLength(32);
        b.Property(e => e.ToState).HasMaxLength(32);
        b.Property(e => e.Step).HasMaxLength(32);
        b.Property(e => e.Detail).HasMaxLength(2000);
        b.HasIndex(e => new { e.MachineId, e.Id });
        // No foreign key to machines, on purpose: the history is an append-only log written at the rate of every
        // transition and import, machines are never deleted (Decommissioned is a state), and a per-row key check
        // would be a third of the cost of a bulk import.
    }
}

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

internal sealed class RecoveryConfiguration : IEntityTypeConfiguration<Recovery>
{
    public void Configure(EntityTypeBuilder<Recovery> b)
    {
        b.ToTable("recoveries");
        b.HasKey(r => r.MachineId);
        b.Property(r => r.FailureReason).HasMaxLength(500);
        b.HasIndex(r => new { r.State, r.Step });
        b.HasIndex(r => r.WaveId);
        b.HasOne<Machine>().WithOne().HasForeignKey<Recovery>(r => r.MachineId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Wave>().WithMany().HasForeignKey(r => r.WaveId).OnDelete(DeleteBehavior.SetNull);
        b.Property(r => r.ReservedPart).HasMaxLength(32);
        b.Ignore(r => r.RemoteBoot); // read from the machine (Recovery.Columns), never stored
        b.HasIndex(r => r.TechnicianId).HasFilter("technician_id IS NOT NULL");
        b.HasOne<Technician>().WithMany().HasForeignKey(r => r.TechnicianId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class AgentCommandConfiguration : IEntityTypeConfiguration<AgentCommand>
{
    public void Configure(EntityTypeBuilder<AgentCommand> b)
    {
        b.ToTable("agent_commands");
        b.Property(c => c.Kind).HasMaxLength(32);
        b.Property(c => c.Step).HasMaxLength(32);
        b.Property(c => c.LeasedBy).HasMaxLength(128);
        b.Property(c => c.Detail).HasMaxLength(2000);
        // The agents' fetch and the pump's claim each read one narrow slice; partial indexes keep them small.
        b.HasIndex(c => new { c.SiteId, c.NotBefore })
            .HasFilter("status IN ('Pending', 'Leased')")
            .HasDatabaseName("ix_agent_commands_open");
        b.HasIndex(c => c.CompletedAt)
            .HasFilter("status = 'Completed'")
            .HasDatabaseName("ix_agent_commands_completed");
        b.HasIndex(c => c.MachineId);
        b.HasOne<Machine>().WithMany().HasForeignKey(c => c.MachineId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Site>().WithMany().HasForeignKey(c => c.SiteId);
    }
}

internal sealed class EvidenceItemConfiguration : IEntityTypeConfiguration<EvidenceItem>
{
    public void Configure(EntityTypeBuilder<EvidenceItem> b)
    {
        b.ToTable("evidence_items");
        b.Property(e => e.DriveSerial).HasMaxLength(64);
        b.Property(e => e.DriveModel).HasMaxLength(64);
        b.Property(e => e.Hostname).HasMaxLength(63);
        b.Property(e => e.IpAddress).HasMaxLength(45);
        b.Property(e => e.EvidenceBagId).HasMaxLength(64);
        b.Property(e => e.SealId).HasMaxLength(64);
        b.Property(e => e.CollectedBy).HasMaxLength(128);
        b.Property(e => e.TimeZone).HasMaxLength(64);
        b.Property(e => e.StorageLocation).HasMaxLength(128);
        b.Property(e => e.CaseNumber).HasMaxLength(64).HasDefaultValue(EvidenceItem.UnassignedCase);
        b.HasIndex(e => e.CaseNumber);
        b.HasIndex(e => e.MachineId);
        b.HasIndex(e => e.EvidenceBagId).IsUnique();
        b.HasOne<Machine>().WithMany().HasForeignKey(e => e.MachineId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class CustodyTransferConfiguration : IEntityTypeConfiguration<CustodyTransfer>
{
    public void Configure(EntityTypeBuilder<CustodyTransfer> b)
    {
        b.ToTable("custody_transfers");
        b.Property(t => t.From).HasMaxLength(128);
        b.Property(t => t.To).HasMaxLength(128);
        b.Property(t => t.Location).HasMaxLength(128);
        b.Property(t => t.TimeZone).HasMaxLength(64);
        b.Property(t => t.Note).HasMaxLength(500);
        b.HasIndex(t => new { t.EvidenceItemId, t.Id });
        b.HasOne<EvidenceItem>().WithMany().HasForeignKey(t => t.EvidenceItemId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class IdempotentRequestConfiguration : IEntityTypeConfiguration<IdempotentRequest>
{
    public void Configure(EntityTypeBuilder<IdempotentRequest> b)
    {
        b.ToTable("idempotent_requests");
        b.HasKey(r => r.Key);
        b.Property(r => r.Key).HasMaxLength(128);
        b.Property(r => r.Step).HasMaxLength(32);
        b.Property(r => r.Outcome).HasMaxLength(32);
        // Text, not jsonb: a replay must return the first answer byte for byte.
        b.Property(r => r.Response).HasMaxLength(4000);
    }
}

internal sealed class EnrolledAgentConfiguration : IEntityTypeConfiguration<EnrolledAgent>
{
    public void Configure(EntityTypeBuilder<EnrolledAgent> b)
    {
        b.ToTable("agents");
        b.Property(a => a.Name).HasMaxLength(128);
        b.Property(a => a.Platform).HasMaxLength(64);
        b.Property(a => a.Version).HasMaxLength(64);
        b.Property(a => a.RevokedBy).HasMaxLength(128);
        b.HasIndex(a => a.SiteId);
        b.HasOne<Site>().WithMany().HasForeignKey(a => a.SiteId);
    }
}

internal sealed class SiteTokenConfiguration : IEntityTypeConfiguration<SiteToken>
{
    public void Configure(EntityTypeBuilder<SiteToken> b)
    {
        b.ToTable("site_tokens");
        b.Property(t => t.CreatedBy).HasMaxLength(128);
        b.HasIndex(t => t.SiteId);
        b.HasOne<Site>().WithMany().HasForeignKey(t => t.SiteId);
    }
}

internal sealed class GoldenImageConfiguration : IEntityTypeConfiguration<GoldenImage>
{
    public void Configure(EntityTypeBuilder<GoldenImage> b)
    {
        b.ToTable("golden_images", t => t.HasCheckConstraint("ck_golden_images_sha256", "sha256 ~ '^[0-9a-f]{64}$'"));
        b.Property(i => i.Name).HasMaxLength(64);
        b.Property(i => i.Version).HasMaxLength(64);
        b.Property(i => i.Sha256).HasMaxLength(64);
        b.Property(i => i.CreatedBy).HasMaxLength(128);
        b.Property(i => i.ApprovedBy).HasMaxLength(128);
        b.HasIndex(i => new { i.Name, i.Version }).IsUnique();
    }
}

internal sealed class ImagingReportConfiguration : IEntityTypeConfiguration<ImagingReport>
{
    public void Configure(EntityTypeBuilder<ImagingReport> b)
    {
        b.ToTable("imaging_reports");
        b.HasKey(r => r.MachineId);
        b.Property(r => r.Detail).HasMaxLength(500);
        b.Property(r => r.OsBuild).HasMaxLength(64);
        b.Property(r => r.ImageId).HasMaxLength(64);
        b.Property(r => r.ImageVersion).HasMaxLength(64);
        b.Property(r => r.ImageSha256).HasMaxLength(64);
        b.Property(r => r.AttestedHostname).HasMaxLength(63);
        b.Property(r => r.AttestedDomain).HasMaxLength(255);
        b.Property(r => r.SecurityAgent).HasMaxLength(128);
        b.HasOne<Machine>().WithOne().HasForeignKey<ImagingReport>(r => r.MachineId).OnDelete(DeleteBehavior.Cascade);
    }
}
