using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Reimage.Orchestrator.Sites;

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
