using Microsoft.Extensions.DependencyInjection;
using Reimage.Dashboard.Fleet;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Fleet;

[Collection("Hangfire")]
public sealed class SavedFiltersTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SavedFilters_AreEachPersonsOwn_AndSavingAgainUnderANameReplacesIt()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var saved = app.Services.GetRequiredService<SavedFilters>();
        var site = Guid.CreateVersion7();

        var first = await saved.SaveAsync("lena", " Failed in Riyadh ", new FleetFilter(site, RecoveryState.Failed), Ct);
        var replaced = await saved.SaveAsync("lena", "Failed in Riyadh", new FleetFilter(site, RecoveryState.Failed, "ws00"), Ct);
        var someoneElse = await saved.SaveAsync("omar", "Failed in Riyadh", new FleetFilter(), Ct);
        var unnamed = await saved.SaveAsync("lena", "  ", new FleetFilter(), Ct);
        var lena = await saved.ListAsync("lena", Ct);
        await saved.DeleteAsync("lena", (await saved.ListAsync("omar", Ct)).Single().Id, Ct); // not hers: nothing happens

        Assert.Equal((null, null, null), (first, replaced, someoneElse));
        Assert.NotNull(unnamed);
        var only = Assert.Single(lena);
        Assert.Equal(("Failed in Riyadh", new FleetFilter(site, RecoveryState.Failed, "ws00")), (only.Name, only.ToFilter()));
        Assert.Single(await saved.ListAsync("omar", Ct));
    }
}
