using Reimage.Agents.Drivers;
using Reimage.Agents.Protocol;

namespace Reimage.Agents.Tests.Drivers;

public sealed class CimVerifierTests
{
    private static readonly CimVerificationOptions Expected = new()
    {
        Username = @"CORP\svc-reimage",
        Password = "Verif1cation-Secret",
        ExpectedOsCaption = "Windows 11 Enterprise",
        ExpectedBuildPrefix = "26100",
        ExpectedDomain = "corp.example",
        SecurityAgentService = "Sense",
        MinimumSystemDiskFreeBytes = 10_000_000_000,
        IocFiles = [@"C:\Windows\Temp\perfc.dat", @"C:\ProgramData\svchost64.exe"],
        IocServices = ["PSEXESVC", "WinUpdateHelper"],
    };

    private static readonly MachineFacts Clean = new()
    {
        OsCaption = "Microsoft Windows 11 Enterprise",
        OsBuildNumber = "26100",
        DnsHostName = "PC042",
        ComputerName = "PC042",
        Domain = "corp.example",
        PartOfDomain = true,
        SystemDisk = new SystemDisk("C:", 512_000_000_000, 400_000_000_000),
        SecurityAgentState = "Running",
    };

    private static readonly LeasedCommand Verify = new(Guid.NewGuid(), Guid.NewGuid(), "verify", "Verify", 1, "PC042", ["02:00:00:00:00:42"], "10.0.0.42", null);

    /// <summary>One way to break each check, alone; names match <see cref="VerificationPolicy"/>'s check names.</summary>
    private static readonly (string Check, Func<MachineFacts, MachineFacts> Break)[] Breakers =
    [
        ("os-caption", f => f with { OsCaption = "Microsoft Windows 10 Enterprise" }),
        ("os-build", f => f with { OsBuildNumber = "19045" }),
        ("hostname", f => f with { DnsHostName = "PC043", ComputerName = "PC043" }),
        ("domain", f => f with { Domain = "attacker.example" }),
        ("system-disk", f => f with { SystemDisk = null }),
        ("security-agent", f => f with { SecurityAgentState = "Stopped" }),
        ("ioc-file", f => f with { IocFilesPresent = [@"c:\windows\temp\PERFC.DAT"] }),
        ("ioc-service", f => f with { IocServicesPresent = ["psexesvc"] }),
    ];

    [Fact]
    public async Task Verify_OnANonWindowsAgent_RefusesThroughTheDriverInterfaceWithoutTryingCim()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "a Windows agent really verifies over CIM");
        var log = new ListLogger<CimVerifier>();
        IReadOnlyList<IMachineDriver> agentDrivers = [new CimVerifier(Expected, log)]; // as the agent holds it: by interface

        var result = await agentDrivers[0].ExecuteAsync(Verify, TestContext.Current.CancellationToken);

        Assert.Equal(Verify.Id, result.CommandId);
        Assert.False(result.Succeeded);
        Assert.StartsWith("CIM verification requires a Windows agent", result.Detail, StringComparison.Ordinal);
        Assert.All(log.Lines, line => Assert.DoesNotContain(Expected.Password, line, StringComparison.Ordinal));
        Assert.DoesNotContain(Expected.Password, result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_ForAnotherKind_Refuses()
    {
        var result = await new CimVerifier(Expected, new ListLogger<CimVerifier>()).ExecuteAsync(Verify with { Kind = "bmc-boot" }, TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Equal("the CIM verifier cannot do 'bmc-boot'", result.Detail);
    }

    [Fact]
    public void Evaluate_ACleanMachine_Passes()
    {
        var outcome = VerificationPolicy.Evaluate(Clean, Expected, Verify);

        Assert.True(outcome.Passed, string.Join("; ", outcome.Failures));
        Assert.Empty(outcome.Failures);
    }

    [Fact]
    public void Evaluate_EachCheckFailingAlone_NamesItselfAndNothingElse()
    {
        foreach (var (check, breakIt) in Breakers)
        {
            var outcome = VerificationPolicy.Evaluate(breakIt(Clean), Expected, Verify);

            Assert.False(outcome.Passed, check);
            Assert.StartsWith(check + ": ", Assert.Single(outcome.Failures), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Evaluate_EveryCombinationOfBrokenChecks_NamesExactlyTheBrokenOnes()
    {
        for (var mask = 0; mask < 1 << Breakers.Length; mask++)
        {
            var facts = Clean;
            var broken = new List<string>();
            for (var i = 0; i < Breakers.Length; i++)
            {
                if ((mask & (1 << i)) != 0)
                {
                    facts = Breakers[i].Break(facts);
                    broken.Add(Breakers[i].Check);
                }
            }

            var outcome = VerificationPolicy.Evaluate(facts, Expected, Verify);

            Assert.Equal(mask == 0, outcome.Passed);
            Assert.Equal(broken, outcome.Failures.Select(f => f[..f.IndexOf(':', StringComparison.Ordinal)]));
        }
    }

    [Theory]
    [InlineData("os-build", "build missing")]
    [InlineData("hostname", "no name reported")]
    [InlineData("domain", "in a workgroup")]
    [InlineData("system-disk", "too little free space")]
    [InlineData("system-disk", "size zero")]
    [InlineData("security-agent", "not installed")]
    [InlineData("ioc-file", "the other IOC file")]
    [InlineData("ioc-service", "the other IOC service")]
    public void Evaluate_OtherWaysToFail_NameTheirCheck(string check, string how)
    {
        var facts = how switch
        {
            "build missing" => Clean with { OsBuildNumber = null },
            "no name reported" => Clean with { DnsHostName = null, ComputerName = null },
            "in a workgroup" => Clean with { PartOfDomain = false, Domain = "WORKGROUP" },
            "too little free space" => Clean with { SystemDisk = new SystemDisk("C:", 128_000_000_000, 9_999_999_999) },
            "size zero" => Clean with { SystemDisk = new SystemDisk("C:", 0, 0) },
            "not installed" => Clean with { SecurityAgentState = null },
            "the other IOC file" => Clean with { IocFilesPresent = [@"C:\ProgramData\svchost64.exe"] },
            "the other IOC service" => Clean with { IocServicesPresent = ["WinUpdateHelper"] },
            _ => throw new ArgumentOutOfRangeException(nameof(how)),
        };

        var outcome = VerificationPolicy.Evaluate(facts, Expected, Verify);

        Assert.StartsWith(check + ": ", Assert.Single(outcome.Failures), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ExpectedBuildPrefix", "os-build: no expected build configured")]
    [InlineData("ExpectedDomain", "domain: no expected domain configured")]
    [InlineData("SecurityAgentService", "security-agent: no security agent service configured")]
    public void Evaluate_AnExpectationLeftEmpty_FailsClosed(string setting, string failure)
    {
        var options = setting switch
        {
            "ExpectedBuildPrefix" => Copy(Expected, build: ""),
            "ExpectedDomain" => Copy(Expected, domain: ""),
            _ => Copy(Expected, agent: ""),
        };

        var outcome = VerificationPolicy.Evaluate(Clean, options, Verify);

        Assert.Equal(failure, Assert.Single(outcome.Failures));
    }

    [Fact]
    public void Evaluate_ToleratesWhatIsNotWrong()
    {
        // The command may carry the FQDN, Windows may report names in another case, DNSHostName may be empty, the
        // caption check is optional, and files the options do not list are not indicators.
        var facts = Clean with { DnsHostName = "", ComputerName = "pc042", Domain = "CORP.EXAMPLE", IocFilesPresent = [@"C:\Windows\notepad.exe"] };
        var options = Copy(Expected, caption: null);

        Assert.True(VerificationPolicy.Evaluate(facts, options, Verify with { Hostname = "PC042.corp.example" }).Passed);
        Assert.True(VerificationPolicy.Evaluate(Clean with { SecurityAgentState = "running" }, Expected, Verify).Passed);
        Assert.False(VerificationPolicy.Evaluate(Clean, Expected, Verify with { Hostname = "PC042.other.example" }).Passed);
    }

    private static CimVerificationOptions Copy(CimVerificationOptions o, string? build = "-", string? domain = "-", string? agent = "-", string? caption = "-") => new()
    {
        Username = o.Username,
        Password = o.Password,
        ExpectedOsCaption = caption == "-" ? o.ExpectedOsCaption : caption,
        ExpectedBuildPrefix = build == "-" ? o.ExpectedBuildPrefix : build,
        ExpectedDomain = domain == "-" ? o.ExpectedDomain : domain,
        SecurityAgentService = agent == "-" ? o.SecurityAgentService : agent,
        MinimumSystemDiskFreeBytes = o.MinimumSystemDiskFreeBytes,
        IocFiles = o.IocFiles,
        IocServices = o.IocServices,
    };
}
