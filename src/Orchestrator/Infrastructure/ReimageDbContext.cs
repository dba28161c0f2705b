using Microsoft.EntityFrameworkCore;
using Reimage.Orchestrator.Agents;
using Reimage.Orchestrator.Machines;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Infrastructure;

public sealed class ReimageDbContext(DbContextOptions<ReimageDbContext> options) : DbContext(options)
{
    /// <summary>Domain tables live here; Hangfire's live in <c>hangfire</c>.</summary>
    public const string Schema = "reimage";

    public DbSet<Site> Sites => Set<Site>();

    public DbSet<Technician> Technicians => Set<Technician>();

    public DbSet<Shift> Shifts => Set<Shift>();

    public DbSet<SpareStock> SpareStock => Set<SpareStock>();

    public DbSet<Delivery> Deliveries => Set<Delivery>();

    public DbSet<Alert> Alerts => Set<Alert>();

    public DbSet<Machine> Machines => Set<Machine>();

    public DbSet<MachineEvent> MachineEvents => Set<MachineEvent>();

    public DbSet<Wave> Waves => Set<Wave>();

    public DbSet<WaveGate> WaveGates => Set<WaveGate>();

    public DbSet<Recovery> Recoveries => Set<Recovery>();

    public DbSet<AgentCommand> AgentCommands => Set<AgentCommand>();

    public DbSet<EnrolledAgent> Agents => Set<EnrolledAgent>();

    public DbSet<SiteToken> SiteTokens => Set<SiteToken>();

    public DbSet<Imaging.GoldenImage> GoldenImages => Set<Imaging.GoldenImage>();

    public DbSet<Imaging.ImagingReport> ImagingReports => Set<Imaging.ImagingReport>();

    public DbSet<Evidence.EvidenceItem> EvidenceItems => Set<Evidence.EvidenceItem>();

    public DbSet<Evidence.CustodyTransfer> CustodyTransfers => Set<Evidence.CustodyTransfer>();

    public DbSet<IdempotentRequest> IdempotentRequests => Set<IdempotentRequest>();

    public DbSet<HandoverNote> HandoverNotes => Set<HandoverNote>();

    public DbSet<Import.SiteRule> SiteRules => Set<Import.SiteRule>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ReimageDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Enums are stored by name: readable in SQL, and stable when members are added.
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(32);
    }
}
