using Reimage.Orchestrator.Workflow;
using Reimage.Orchestrator.HandsOn;

namespace Reimage.Dashboard.HandsOn;

/// <summary>
/// A check-off as the tablet's form posts it. The idempotency key is issued with the form, so a double tap or a
/// resend after a dropped connection carries the same key and changes nothing the second time.
/// </summary>
public sealed class CheckOffInput
{
    public string IdempotencyKey { get; set; } = "";

    public string? Step { get; set; }

    public string? RemovedDriveSerial { get; set; }

    public string? RemovedDriveModel { get; set; }

    public string? EvidenceBagId { get; set; }

    public string? SealId { get; set; }

    public string? CaseNumber { get; set; }

    public string? StorageLocation { get; set; }

    public string? NewDriveSerial { get; set; }

    public HandsOnCompletion ToCompletion() => new(
        Clean(RemovedDriveSerial), Clean(RemovedDriveModel), Clean(EvidenceBagId), Clean(SealId), Clean(StorageLocation), Clean(NewDriveSerial), Clean(CaseNumber));

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>A technician's report that the step cannot be done, as the tablet's form posts it.</summary>
public sealed class ProblemInput
{
    public string IdempotencyKey { get; set; } = "";

    public string? Step { get; set; }

    public string? Problem { get; set; }

    public string? Note { get; set; }

    /// <summary>The problems technicians meet most, offered as choices.</summary>
    public static readonly string[] Common =
        ["Machine not at this location", "Hardware fault (will not power on, damaged)", "Wrong drive type in stock", "Machine in use, user refuses", "Other"];

    public string Text => string.IsNullOrWhiteSpace(Note) ? Problem?.Trim() ?? "" : $"{Problem?.Trim()}: {Note.Trim()}";
}

/// <summary>How steps read on a tablet.</summary>
public static class StepNames
{
    public static string Of(Step? step) => step switch
    {
        Orchestrator.Workflow.Step.RemoveDrive => "Remove drive",
        Orchestrator.Workflow.Step.InstallDrive => "Install drive",
        Orchestrator.Workflow.Step.ManualBoot => "Boot at the machine",
        null => "",
        { } s => s.ToString(),
    };
}
