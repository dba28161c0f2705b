using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Reimage.Agents.Protocol;
using Reimage.Agents.Protocol.Simulation;

namespace Reimage.Agents.Tests.Protocol;

public sealed class SiteAgentTests
{
    private static readonly SiteAgentOptions Fast = new() { IdleDelay = TimeSpan.FromMilliseconds(10), ReportInterval = TimeSpan.FromMilliseconds(10) };

    [Fact]
    public async Task Run_ExecutesEachFetchedCommand_AndReportsEveryResult()
    {
        var commands = Enumerable.Range(0, 25).Select(i => Command($"PC{i:D3}", "network-boot")).ToList();
        var transport = new FakeTransport([commands]);
        var agent = new SiteAgent(transport, new SimulatedFleet(SimulatedFleetOptions.Instant, TimeProvider.System), Fast, TimeProvider.System, NullLogger<SiteAgent>.Instance);

        await RunUntilAsync(agent, () => transport.Reported.Count >= 25);

        Assert.Equal(commands.Select(c => c.Id).Order(), transport.Reported.Select(r => r.CommandId).Order());
        Assert.All(transport.Reported, r => Assert.True(r.Succeeded));
    }

    [Fact]
    public async Task Run_WhenReportingFails_KeepsTheResultsAndSendsThemAgain()
    {
        var command = Command("PC001", "verify");
        var transport = new FakeTransport([[command]]) { FailReports = 3 };
        var agent = new SiteAgent(transport, new SimulatedFleet(SimulatedFleetOptions.Instant, TimeProvider.System), Fast, TimeProvider.System, NullLogger<SiteAgent>.Instance);

        await RunUntilAsync(agent, () => transport.Reported.Count >= 1);

        Assert.Equal(command.Id, Assert.Single(transport.Reported).CommandId);
        Assert.Equal(4, transport.ReportCalls);
    }

    [Fact]
    public async Task Run_WhenTheServerRefusesABatchForGood_DropsItAndReportsLaterResults()
    {
        // Before: one poison result made the server answer 400 and the agent resent that batch forever, so none of
        // its later results were ever recorded.
        var first = Command("PC010", "verify");
        var later = Command("PC011", "verify");
        var transport = new FakeTransport([[first], [], [], [later]]) { RefuseBatches = 1 };
        var agent = new SiteAgent(transport, new SimulatedFleet(SimulatedFleetOptions.Instant, TimeProvider.System), Fast, TimeProvider.System, NullLogger<SiteAgent>.Instance);

        await RunUntilAsync(agent, () => transport.Reported.Count >= 1);

        Assert.Equal(later.Id, Assert.Single(transport.Reported).CommandId);
    }

    [Fact]
    public async Task Run_ADriverMessageWithANulOrHalfASurrogatePair_IsMadeStorableBeforeItIsSent()
    {
        var command = Command("PC012", "network-boot");
        var transport = new FakeTransport([[command]]);
        var driver = new Mock<IMachineDriver>();
        driver.Setup(d => d.ExecuteAsync(command, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new CommandResult(command.Id, false, "BMC said \0\uD83D" + new string('x', 3000)));
        var agent = new SiteAgent(transport, driver.Object, Fast, TimeProvider.System, NullLogger<SiteAgent>.Instance);

        await RunUntilAsync(agent, () => transport.Reported.Count >= 1);

        var detail = Assert.Single(transport.Reported).Detail;
        Assert.Null(WireText.Problem(detail, CommandResult.MaxDetailLength));
        Assert.StartsWith("BMC said \uFFFD\uFFFDxxx", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WhenTheDriverThrows_ReportsAFailureNamingTheError()
    {
        var command = Command("PC002", "network-boot");
        var transport = new FakeTransport([[command]]);
        var driver = new Mock<IMachineDriver>();
        driver.Setup(d => d.ExecuteAsync(command, It.IsAny<CancellationToken>())).ThrowsAsync(new InvalidOperationException("BMC refused the session"));
        var agent = new SiteAgent(transport, driver.Object, Fast, TimeProvider.System, NullLogger<SiteAgent>.Instance);

        await RunUntilAsync(agent, () => transport.Reported.Count >= 1);

        var result = Assert.Single(transport.Reported);
        Assert.False(result.Succeeded);
        Assert.Contains("BMC refused the session", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SimulatedFleet_FailsAtItsConfiguredRate_AndRejectsUnknownCommands()
    {
        var options = new SimulatedFleetOptions { Speed = 1, Steps = new() { ["verify"] = new(TimeSpan.Zero, 0, 0.25) } };
        var fleet = new SimulatedFleet(options, TimeProvider.System);

        var results = await Task.WhenAll(Enumerable.Range(0, 4000).Select(i => fleet.ExecuteAsync(Command($"PC{i}", "verify"), TestContext.Current.CancellationToken)));
        var unknown = await fleet.ExecuteAsync(Command("PC9", "format-c"), TestContext.Current.CancellationToken);

        var failureRate = results.Count(r => !r.Succeeded) / 4000.0;
        Assert.InRange(failureRate, 0.21, 0.29);
        Assert.False(unknown.Succeeded);
        Assert.Contains("cannot do 'format-c'", unknown.Detail, StringComparison.Ordinal);
    }

    private static LeasedCommand Command(string host, string kind) =>
        new(Guid.NewGuid(), Guid.NewGuid(), kind, "AnyStep", 1, host, ["02:00:00:00:00:01"], null, null);

    private static async Task RunUntilAsync(SiteAgent agent, Func<bool> done)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var running = agent.RunAsync(stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "the agent did not finish within 20 s");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        await stop.CancelAsync();
        await running;
    }

    /// <summary>Hands out the given batches once each, then nothing; records what is reported.</summary>
    private sealed class FakeTransport(List<List<LeasedCommand>> batches) : IAgentTransport
    {
        private readonly Lock _gate = new();

        public List<CommandResult> Reported { get; } = [];

        public int FailReports { get; set; }

        public int ReportCalls { get; private set; }

        public Task<IReadOnlyList<LeasedCommand>> FetchAsync(int max, CancellationToken ct)
        {
            lock (_gate)
            {
                if (batches.Count == 0)
                {
                    return Task.FromResult<IReadOnlyList<LeasedCommand>>([]);
                }

                var batch = batches[0];
                batches.RemoveAt(0);
                return Task.FromResult<IReadOnlyList<LeasedCommand>>(batch);
            }
        }

        /// <summary>Reports refused for good (a server answering 400 to the whole batch), before any are accepted.</summary>
        public int RefuseBatches { get; set; }

        public Task<ResultsReceipt> ReportAsync(IReadOnlyList<CommandResult> results, CancellationToken ct)
        {
            lock (_gate)
            {
                ReportCalls++;
                if (FailReports-- > 0)
                {
                    throw new HttpRequestException("server unreachable");
                }

                if (RefuseBatches-- > 0)
                {
                    throw new BatchRefusedException("agent/v1/results answered 400");
                }

                Reported.AddRange(results);
                return Task.FromResult(new ResultsReceipt(results.Count, results.Count, []));
            }
        }
    }
}
