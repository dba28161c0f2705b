using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Agents;

/// <summary>
/// The phone-home scripts as a task sequence runs them: a real PowerShell 7 process (the .NET global tool that
/// build.sh installs) against the real server on loopback, for every event type. Outside a task sequence the
/// Windows-only parts are absent (no Microsoft.SMS.TSEnvironment, no CIM on Linux): the serial is passed as the script
/// allows. Windows PowerShell 5.1, which cannot run here, is held to by parsing: no PowerShell 7-only syntax.
/// </summary>
[Collection("Hangfire")]
public sealed class PhoneHomeScriptTests(PostgresFixture postgres) : IDisposable
{
    private static readonly string Scripts = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "deploy", "phone-home"));
    private readonly string _logs = Directory.CreateTempSubdirectory("reimage-ps-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_logs, recursive: true);

    [Fact]
    public async Task TheScripts_UseNoPowerShell7OnlySyntax_AndTheCheckFindsItWhereItIs()
    {
        // The check itself must find each construct, or its silence on the scripts proves nothing.
        var planted = Path.Combine(_logs, "planted.ps1");
        await File.WriteAllTextAsync(planted, "$a = $b ?? 1\n$c ??= 2\n$d = $true ? 1 : 2\nGet-Item x && Get-Item y\n$e = ${f}?.Name\n", Ct);

        var found = await Ps7OnlyAsync(planted);
        var inScripts = await Ps7OnlyAsync(Path.Combine(Scripts, "Send-ReimageEvent.ps1"), Path.Combine(Scripts, "Send-ReimageAttestation.ps1"));

        Assert.Equal(["&&", "?.", "?:", "??", "??="], found.Split(' ', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        Assert.Equal("", inScripts);
    }

    [Fact]
    public async Task EveryEventType_SentByTheScriptUnderPwsh_TakesEffectOnTheServer()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var url = app.StartOnLoopback();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var (machine, serial, token) = await PhoneHomeApiTests.MachineAtImagingAsync(app, db, "PS", direct: true);

        foreach (var (arguments, expected) in new (string, string)[]
        {
            ("-Event started", "Started:0"),
            ("-Event progress -Percent 40", "Progress:40"),
            ("-Event applied", "Applied:100"),
            ("-Event first-boot", "FirstBoot:100"),
        })
        {
            var (exit, log) = await RunAsync("Send-ReimageEvent.ps1", $"{arguments} -Serial {serial} -Server {url} -Token {token}");
            Assert.True(exit == 0, log);
            Assert.Equal(expected, await TestFleet.TextAsync(db, $"SELECT phase || ':' || percent FROM reimage.imaging_reports WHERE machine_id = '{machine}'"));
            Assert.DoesNotContain(token, log, StringComparison.Ordinal); // the token is never logged
        }

        // failed, on another machine: it fails that machine's imaging step; its retry by the same run is recorded once.
        var (other, otherSerial, otherToken) = await PhoneHomeApiTests.MachineAtImagingAsync(app, db, "PT", direct: true);
        var (failedExit, failedLog) = await RunAsync("Send-ReimageEvent.ps1", $"-Event failed -Detail \"Apply Operating System failed\" -EventId ts-run-1-failed -Serial {otherSerial} -Server {url} -Token {otherToken}");
        var (againExit, againLog) = await RunAsync("Send-ReimageEvent.ps1", $"-Event failed -Detail \"Apply Operating System failed\" -EventId ts-run-1-failed -Serial {otherSerial} -Server {url} -Token {otherToken}");

        Assert.Equal((0, 0), (failedExit, againExit));
        Assert.Contains("-> 202", failedLog, StringComparison.Ordinal);
        Assert.Contains("-> 202", againLog, StringComparison.Ordinal); // the first answer, replayed
        Assert.Equal("1|false|imaging failed (phone-home): Apply Operating System failed", await TestFleet.TextAsync(db,
            $"SELECT count(*) OVER () || '|' || succeeded::text || '|' || detail FROM reimage.agent_commands WHERE machine_id = '{other}' AND step = 'Imaging' AND status <> 'Pending' LIMIT 1"));

        // A wrong token and a plain-http server that is not loopback: logged, never fatal to the task sequence.
        var (refusedExit, refusedLog) = await RunAsync("Send-ReimageEvent.ps1", $"-Event started -Serial {serial} -Server {url} -Token rph_not-a-token");
        var (insecureExit, insecureLog) = await RunAsync("Send-ReimageEvent.ps1", $"-Event started -Serial {serial} -Server http://reimage.example.org -Token {token}");
        Assert.Equal((0, 0), (refusedExit, insecureExit));
        Assert.Contains("token was refused", refusedLog, StringComparison.Ordinal);
        Assert.Contains("must be an https:// address", insecureLog, StringComparison.Ordinal);
    }

    /// <summary>
    /// The FOG hook as FOG sources it into its own imaging script, which runs with <c>set -e</c>: an empty <c>$mac</c> (a
    /// grep that finds nothing) must not end FOG's script; a setting in the environment wins over reimage.conf; the
    /// event's detail says what happened.
    /// </summary>
    [Fact]
    public async Task TheFogHook_SourcedIntoASetEScript_NeverStopsIt_AndReportsWithTheEnvironmentsSettings()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var url = app.StartOnLoopback();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var (machine, _, token) = await PhoneHomeApiTests.MachineAtImagingAsync(app, db, "FG", direct: true);
        var mac = await TestFleet.TextAsync(db, $"SELECT mac_addresses[1] FROM reimage.machines WHERE id = '{machine}'");
        var hooks = Directory.CreateDirectory(Path.Combine(_logs, "postdownloadscripts")).FullName + "/";
        File.Copy(Path.Combine(Scripts, "fog-postdownload.sh"), hooks + "reimage-phone-home.sh");
        await File.WriteAllTextAsync(hooks + "reimage.conf", "REIMAGE_SERVER=http://127.0.0.1:9\nREIMAGE_ATTEMPTS=1\n", Ct); // stale: the environment wins

        var (emptyExit, emptyOutput) = await ShAsync(hooks, "", url, token, "started");
        var (exit, output) = await ShAsync(hooks, mac.Replace(':', '-'), url, token, "started");

        Assert.True(emptyExit == 0 && emptyOutput.Contains("FOG-CONTINUES", StringComparison.Ordinal), emptyOutput);
        Assert.True(exit == 0 && output.Contains("FOG-CONTINUES", StringComparison.Ordinal), output);
        Assert.Contains("-> 202", output, StringComparison.Ordinal);
        Assert.Equal("Started|FOG imaging with Win11-Std-2026 started on fg-host", await TestFleet.TextAsync(db,
            $"SELECT phase || '|' || detail FROM reimage.imaging_reports WHERE machine_id = '{machine}'"));
    }

    /// <summary>FOG's side: its imaging script with set -e and -u, FOG's variables, then the hook sourced, then more of FOG's own work.</summary>
    private static async Task<(int Exit, string Output)> ShAsync(string hooks, string mac, string url, string token, string @event)
    {
        var info = new ProcessStartInfo("sh", $"-c \"set -eu; postdownpath='{hooks}'; mac='{mac}'; img=Win11-Std-2026; hostname=fg-host; . \\\"${{postdownpath}}reimage-phone-home.sh\\\"; echo FOG-CONTINUES\"")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        info.Environment["REIMAGE_SERVER"] = url;
        info.Environment["REIMAGE_TOKEN"] = token;
        info.Environment["REIMAGE_EVENT"] = @event;
        info.Environment["REIMAGE_MAX_WAIT"] = "0";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(patience.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>PowerShell 7: on PATH, else where <c>dotnet tool install -g</c> puts it.</summary>
    private static string Pwsh()
    {
        var tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", OperatingSystem.IsWindows() ? "pwsh.exe" : "pwsh");
        return Environment.GetEnvironmentVariable("PWSH_PATH") ?? (File.Exists(tool) ? tool : "pwsh");
    }

    private async Task<(int Exit, string Log)> RunAsync(string script, string arguments)
    {
        var log = Path.Combine(_logs, Guid.NewGuid().ToString("N") + ".log");
        var (exit, output) = await PwshAsync($"-NoProfile -NonInteractive -File \"{Path.Combine(Scripts, script)}\" {arguments} -LogPath \"{log}\" -MaxWaitSeconds 5");
        return (exit, output + (File.Exists(log) ? await File.ReadAllTextAsync(log, Ct) : ""));
    }

    /// <summary>The PowerShell 7-only constructs in <paramref name="files"/>, as found by PowerShell's own parser.</summary>
    private static async Task<string> Ps7OnlyAsync(params string[] files)
    {
        const string check =
            """
            $found = foreach ($file in $args) {
              $tokens = $null; $errors = $null
              $ast = [System.Management.Automation.Language.Parser]::ParseFile($file, [ref]$tokens, [ref]$errors)
              if ($errors.Count) { "parse-error:$file" }
              foreach ($t in $tokens) { if ($t.Kind -in 'QuestionQuestion','QuestionQuestionEquals','AndAnd','OrOr','QuestionDot','QuestionLBracket') { $t.Text } }
              foreach ($n in $ast.FindAll({ param($x) $x -is [System.Management.Automation.Language.TernaryExpressionAst] }, $true)) { '?:' }
            }
            ($found -join ' ')
            """;
        var path = Path.Combine(Path.GetTempPath(), $"ps7-check-{Guid.NewGuid():N}.ps1");
        await File.WriteAllTextAsync(path, check, Ct);
        try
        {
            var (exit, output) = await PwshAsync($"-NoProfile -NonInteractive -File \"{path}\" {string.Join(' ', files.Select(f => $"\"{f}\""))}");
            Assert.True(exit == 0, output);
            return output.Trim();
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task<(int Exit, string Output)> PwshAsync(string arguments)
    {
        var info = new ProcessStartInfo(Pwsh(), arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["POWERSHELL_TELEMETRY_OPTOUT"] = "1";
        info.Environment["POWERSHELL_UPDATECHECK"] = "Off";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(TimeSpan.FromMinutes(2)); // the scripts give up within their own bounds; this only catches a hang
        await process.WaitForExitAsync(patience.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
