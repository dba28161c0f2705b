using Reimage.Orchestrator.Forecast;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Tests.Forecast;

public sealed class ReferenceScenariosTests
{
    [Theory]
    [InlineData("aramco-like", 30_000, 31_000)]
    [InlineData("maersk-like", 49_000, 49_000)]
    [InlineData("small", 200, 400)]
    public void Load_GivesAFleetOfTheScenarioSize_TheSameEveryTime(string name, int least, int most)
    {
        var plan = ReferenceScenarios.Load(name);
        var again = ReferenceScenarios.Load(name);

        Assert.InRange(plan.Machines.Count, least, most);
        Assert.Equal(plan.Machines.Select(m => (m.Id, m.Hostname, m.SiteId, m.Path)), again.Machines.Select(m => (m.Id, m.Hostname, m.SiteId, m.Path)));
        Assert.Equal(plan.Machines.Count, plan.Machines.Select(m => m.Hostname).Distinct().Count());
        Assert.All(plan.Sites, s => Assert.NotEqual(TimeZoneInfo.Utc, TimeZoneInfo.FindSystemTimeZoneById(s.TimeZone)));
    }

    [Fact]
    public void Load_Aramco_ReplacesDrives_AndMaersk_ReformatsWithUsbCouriers()
    {
        var aramco = ReferenceScenarios.Load("aramco-like");
        var maersk = ReferenceScenarios.Load("maersk-like");

        Assert.InRange(aramco.Machines.Count(m => m.Path == RecoveryPath.DriveReplacement), 30_000, 30_000);
        Assert.Equal(5, aramco.Sites.Count);
        Assert.Equal(45_000, maersk.Machines.Count(m => m.Path != RecoveryPath.ServerViaBmc));
        Assert.Equal(4_000, maersk.Machines.Count(m => m.Path == RecoveryPath.ServerViaBmc));
        Assert.InRange(maersk.Sites.Count, 200, 400);
        Assert.Contains(maersk.Sites, s => s.ImagesFromUsb && s.UsbMedia == 0 && s.Deliveries.Any(d => d.Item == Sites.SpareStock.UsbMedia));
    }

    [Fact]
    public void Load_WithAMachineCount_GrowsTheScenario()
    {
        var plan = ReferenceScenarios.Load("maersk-like", 100_000);

        Assert.InRange(plan.Machines.Count, 99_000, 101_000);
        Assert.Throws<ArgumentException>(() => ReferenceScenarios.Load("notpetya"));
    }
}
