using Bunit;
using Reimage.Dashboard.Components;
using Reimage.Dashboard.Executive;
using Reimage.Dashboard.HandsOn;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Tests.Components;

/// <summary>The dashboard's small components, rendered by bUnit.</summary>
public sealed class ComponentTests : IDisposable
{
    private readonly BunitContext _context = new();

    [Fact]
    public void StepFields_ForRemoveDrive_AsksForTheEvidence_AsRequiredInputsNamedForTheForm()
    {
        var cut = _context.Render<StepFields>(p => p
            .Add(x => x.Step, Step.RemoveDrive)
            .Add(x => x.Model, new CheckOffInput { RemovedDriveSerial = "WD-1" })
            .Add(x => x.Errors, new Dictionary<string, string[]> { ["sealId"] = ["the id of the bag's tamper-evident seal"] }));

        var required = cut.FindAll("input[required]").Select(i => i.GetAttribute("name")).ToList();
        Assert.Equal(["Input.RemovedDriveSerial", "Input.EvidenceBagId", "Input.SealId"], required);
        Assert.Equal("WD-1", cut.Find("input[name='Input.RemovedDriveSerial']").GetAttribute("value"));
        Assert.Equal("true", cut.Find("input[name='Input.SealId']").GetAttribute("aria-invalid"));
        Assert.Contains("tamper-evident seal", cut.Find(".field.invalid [role=alert]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void StepFields_ForInstallDrive_AsksOnlyForTheNewSerial_AndManualBootForNothing()
    {
        var install = _context.Render<StepFields>(p => p.Add(x => x.Step, Step.InstallDrive).Add(x => x.Model, new CheckOffInput()));
        var boot = _context.Render<StepFields>(p => p.Add(x => x.Step, Step.ManualBoot).Add(x => x.Model, new CheckOffInput()));

        Assert.Equal(["Input.NewDriveSerial"], install.FindAll("input").Select(i => i.GetAttribute("name")));
        Assert.Empty(boot.FindAll("input"));
        Assert.Contains("network boot", boot.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void ProgressBars_ShowTheFurthestBehindFirst_WithAnAccessibleLabel_AndSayWhenRowsAreLeftOut()
    {
        var rows = new[] { new Progress("DHA", 90, 100), new Progress("RTN", 10, 40), new Progress("JED", 0, 0) };
        var cut = _context.Render<ProgressBars>(p => p.Add(x => x.Title, "By site").Add(x => x.Rows, rows).Add(x => x.Limit, 2));

        var bars = cut.FindAll("[data-testid=bar]");
        Assert.Equal(2, bars.Count);
        Assert.StartsWith("JED", bars[0].TextContent.Trim(), StringComparison.Ordinal); // 0 % (and no machines in scope)
        Assert.Equal("RTN: 25 % restored", bars[1].QuerySelector("progress")!.GetAttribute("aria-label"));
        Assert.Contains("2 furthest behind of 3", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void ProgressBars_WithNoRows_SayItPlainly()
    {
        var cut = _context.Render<ProgressBars>(p => p.Add(x => x.Title, "By wave").Add(x => x.Rows, Array.Empty<Progress>()));
        Assert.Equal("No machines yet.", cut.Find(".empty").TextContent);
    }

    [Fact]
    public void BlockerList_ListsOnlyWhatBlocks_OrSaysNone()
    {
        var some = _context.Render<BlockerList>(p => p.Add(x => x.Blockers, new Blockers(AwaitingParts: 12, Failed: 0, Quarantined: 3, OfflineAgents: 1, OpenAlerts: 0)));
        var none = _context.Render<BlockerList>(p => p.Add(x => x.Blockers, new Blockers(0, 0, 0, 0, 0)));

        Assert.Equal(["12 awaiting parts", "3 quarantined", "1 site agent offline"], some.FindAll("li").Select(l => l.TextContent));
        Assert.Contains("has", some.Find("[data-testid=blockers]").ClassList);
        Assert.Equal("None", none.Find(".count").TextContent);
    }

    [Fact]
    public void QrLabel_DrawsTheCodeOfItsOwnText()
    {
        var one = _context.Render<QrLabel>(p => p.Add(x => x.Code, "AT-000042").Add(x => x.Hostname, "DHA-PC0042").Add(x => x.Where, "DHA · B1"));
        var other = _context.Render<QrLabel>(p => p.Add(x => x.Code, "AT-000043"));

        Assert.NotNull(one.Find("svg"));
        Assert.Equal("AT-000042", one.Find("strong").TextContent);
        Assert.NotEqual(one.Find("svg").OuterHtml, other.Find("svg").OuterHtml);
        Assert.NotNull(one.Find("svg").GetAttribute("viewBox")); // scales to the label's size when printed
    }

    public void Dispose() => _context.Dispose();
}
