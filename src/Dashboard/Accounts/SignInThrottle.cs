using System.Collections.Concurrent;

namespace Reimage.Dashboard.Accounts;

/// <summary>
/// Slows password guessing without letting a guesser lock anyone out. Failed sign-ins are counted per source address
/// (at most <see cref="SourceFailures"/> in <see cref="SourceWindow"/>) and per account name across sources (at most
/// <see cref="AccountFailures"/> in <see cref="AccountWindow"/>); past either, sign-in is refused until the window
/// ends. A source that has signed in to an account before passes that account's limit, so an attacker spraying the
/// admin's name from elsewhere cannot keep the admin out of the devices they use. There is no hard per-account lock.
/// Both sign-in forms (the page and <c>POST /api/account/login</c>) go through it. The counts live in this process: with
/// several web nodes each node counts its own.
/// </summary>
public sealed class SignInThrottle(TimeProvider clock)
{
    public const int SourceFailures = 10;
    public const int AccountFailures = 20;
    public static readonly TimeSpan SourceWindow = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan AccountWindow = TimeSpan.FromMinutes(15);

    private readonly ConcurrentDictionary<string, (DateTimeOffset Start, int Failures)> _sources = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (DateTimeOffset Start, int Failures)> _accounts = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<(string Account, string Source), bool> _known = new();

    /// <summary>Null when this sign-in may be tried; else how long until it may.</summary>
    public TimeSpan? RetryAfter(string source, string account)
    {
        var now = clock.GetUtcNow();
        if (Blocked(_sources, source, SourceFailures, SourceWindow, now) is { } wait)
        {
            return wait;
        }

        return _known.ContainsKey((account.ToUpperInvariant(), source)) ? null : Blocked(_accounts, account, AccountFailures, AccountWindow, now);
    }

    public void Failed(string source, string account)
    {
        var now = clock.GetUtcNow();
        Count(_sources, source, SourceWindow, now);
        Count(_accounts, account, AccountWindow, now);
    }

    public void Succeeded(string source, string account) => _known[(account.ToUpperInvariant(), source)] = true;

    private static TimeSpan? Blocked(ConcurrentDictionary<string, (DateTimeOffset Start, int Failures)> counts, string key, int limit, TimeSpan window, DateTimeOffset now) =>
        counts.TryGetValue(key, out var c) && c.Failures >= limit && now - c.Start < window ? window - (now - c.Start) : null;

    private static void Count(ConcurrentDictionary<string, (DateTimeOffset Start, int Failures)> counts, string key, TimeSpan window, DateTimeOffset now) =>
        counts.AddOrUpdate(key, _ => (now, 1), (_, c) => now - c.Start >= window ? (now, 1) : (c.Start, c.Failures + 1));
}
