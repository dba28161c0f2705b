namespace Reimage.Agents.Protocol.Simulation;

/// <summary>
/// Writes one line per command carried out (command id, kind, host) before handing it to the simulated fleet, so a
/// drill can prove afterwards that no command was carried out twice.
/// </summary>
public sealed class JournalingDriver(IMachineDriver inner, string path) : IMachineDriver, IDisposable
{
    private readonly StreamWriter _journal = Open(path);
    private readonly Lock _gate = new();

    public Task<CommandResult> ExecuteAsync(LeasedCommand command, CancellationToken ct)
    {
        lock (_gate)
        {
            _journal.WriteLine($"{command.Id},{command.Kind},{command.Hostname}");
        }

        return inner.ExecuteAsync(command, ct);
    }

    public void Dispose() => _journal.Dispose();

    private static StreamWriter Open(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }
}
