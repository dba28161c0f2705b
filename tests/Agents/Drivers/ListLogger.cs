using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Reimage.Agents.Tests.Drivers;

/// <summary>Keeps every log line, with its structured values, so a test can prove a secret never reached a log.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
        Lines.Enqueue($"{logLevel}: {formatter(state, exception)} [{values}] {exception}");
    }
}
