using System.Collections.Concurrent;
using System.Diagnostics;

namespace Reimage.Dashboard.Tests.Reliability;

/// <summary>
/// A process a test started (the Reimage server, a site agent). Disposing it kills it with its whole tree, so a test
/// that fails or throws — also while its process is still starting — leaves nothing running; whatever is still
/// alive when the test host exits is killed then.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<ChildProcess, bool> Alive = new();
    private readonly Process _process;
    private bool _disposed;

    static ChildProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var child in Alive.Keys)
        {
            child.KillTree();
        }
    };

    private ChildProcess(Process process) => _process = process;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Waits for the process to exit by itself (output read to the end); <paramref name="ct"/> ends the wait, not the process.</summary>
    public Task WaitForExitAsync(CancellationToken ct) => _process.WaitForExitAsync(ct);

    /// <summary>Starts <paramref name="info"/> with its output and errors collected in <paramref name="log"/>.</summary>
    public static ChildProcess Start(ProcessStartInfo info, List<string> log)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        var child = new ChildProcess(Process.Start(info) ?? throw new InvalidOperationException($"{info.FileName} did not start"));
        Alive[child] = true;
        try
        {
            child._process.OutputDataReceived += (_, e) => Append(log, e.Data);
            child._process.ErrorDataReceived += (_, e) => Append(log, e.Data);
            child._process.BeginOutputReadLine();
            child._process.BeginErrorReadLine();
            return child;
        }
        catch
        {
            child.KillTree();
            throw;
        }
    }

    /// <summary>Asks the process to stop (SIGTERM, what systemd sends) and waits up to <paramref name="patience"/>; whether it exited.</summary>
    public async Task<bool> TerminateAsync(TimeSpan patience)
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill", $"-TERM {_process.Id}") { UseShellExecute = false }))
        {
            await kill!.WaitForExitAsync(CancellationToken.None);
        }

        using var wait = new CancellationTokenSource(patience);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Kills the process and everything it started (SIGKILL on Linux: no chance to clean up) and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        KillTree();
        await _process.WaitForExitAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await KillAsync();
        _disposed = true;
        _process.Dispose();
    }

    private void KillTree()
    {
        Alive.TryRemove(this, out _);
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or AggregateException)
        {
            // it exited between the check and the kill, or a child of it did
        }
    }

    private static void Append(List<string> log, string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.Add(line);
            }
        }
    }
}
