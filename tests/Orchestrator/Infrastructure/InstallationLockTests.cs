using Npgsql;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Tests;

namespace Reimage.Orchestrator.Tests.Infrastructure;

/// <summary>The turn-taking of nodes starting together: a second node waits for the first to finish migrating, then goes.</summary>
public sealed class InstallationLockTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ASecondHolder_WaitsUntilTheFirstReleases_AndOtherPurposesDoNotWait()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var first = await db.InstallationLockAsync("reimage migrations", Ct);
        var second = db.InstallationLockAsync("reimage migrations", Ct);
        await using (await db.InstallationLockAsync("reimage accounts", Ct))
        {
            // another purpose is not held up
        }

        var raced = await Task.WhenAny(second, Task.Delay(TimeSpan.FromSeconds(1), Ct));
        Assert.NotSame(second, raced); // still waiting while the first holds it

        await first.DisposeAsync();
        await using (await second.WaitAsync(TimeSpan.FromSeconds(30), Ct))
        {
            // its turn
        }
    }
}
