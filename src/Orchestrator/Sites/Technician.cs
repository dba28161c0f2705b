namespace Reimage.Orchestrator.Sites;

/// <summary>A person who does the hands-on steps at one site, on the shifts of their roster.</summary>
public sealed class Technician
{
    public Guid Id { get; set; }

    public Guid SiteId { get; set; }

    public required string Name { get; set; }

    /// <summary>Building the technician usually works in, used to keep walking distances short.</summary>
    public string? Building { get; set; }

    public bool Active { get; set; } = true;
}

/// <summary>
/// A weekly recurring shift of one technician, in the site's time zone. A shift that ends at or before it starts
/// runs past midnight into the next day (a night shift belongs to the day it starts on).
/// </summary>
public sealed class Shift
{
    public Guid Id { get; set; }

    public Guid TechnicianId { get; set; }

    public ShiftDays Days { get; set; } = ShiftDays.EveryDay;

    public TimeOnly Starts { get; set; }

    public TimeOnly Ends { get; set; }

    /// <summary>Whether a shift starting on <paramref name="days"/> at <paramref name="starts"/> covers the site-local moment <paramref name="local"/>.</summary>
    public static bool Covers(ShiftDays days, TimeOnly starts, TimeOnly ends, DateTime local)
    {
        var time = TimeOnly.FromDateTime(local);
        var today = ShiftDaysOf(local.DayOfWeek);
        if (starts < ends)
        {
            return days.HasFlag(today) && time >= starts && time < ends;
        }

        // Overnight (or round the clock when starts == ends): the evening part today, the morning part from yesterday's start.
        var yesterday = ShiftDaysOf(local.AddDays(-1).DayOfWeek);
        return (days.HasFlag(today) && time >= starts) || (days.HasFlag(yesterday) && time < ends);
    }

    public static ShiftDays ShiftDaysOf(DayOfWeek day) => (ShiftDays)(1 << (int)day);

    /// <summary>
    /// How much of [<paramref name="from"/>, <paramref name="to"/>) at least one of <paramref name="shifts"/> covers, by
    /// the rule of <see cref="Covers"/> in <paramref name="zone"/>: each shift's weekly occurrences as intervals, merged.
    /// </summary>
    public static TimeSpan CoveredBetween(IEnumerable<(ShiftDays Days, TimeOnly Starts, TimeOnly Ends)> shifts, TimeZoneInfo zone, DateTimeOffset from, DateTimeOffset to)
    {
        if (to <= from)
        {
            return TimeSpan.Zero;
        }

        var intervals = new List<(DateTimeOffset From, DateTimeOffset To)>();
        var list = shifts.ToList();
        var last = TimeZoneInfo.ConvertTime(to, zone).Date;
        for (var day = TimeZoneInfo.ConvertTime(from, zone).Date.AddDays(-1); day <= last; day = day.AddDays(1))
        {
            foreach (var (days, starts, ends) in list.Where(s => s.Days.HasFlag(ShiftDaysOf(day.DayOfWeek))))
            {
                // A shift ending at or before its start runs into the next day (round the clock when equal).
                var (begin, end) = (Utc(day + starts.ToTimeSpan(), zone), Utc((starts < ends ? day : day.AddDays(1)) + ends.ToTimeSpan(), zone));
                (begin, end) = (begin > from ? begin : from, end < to ? end : to);
                if (end > begin)
                {
                    intervals.Add((begin, end));
                }
            }
        }

        var (covered, reach) = (TimeSpan.Zero, from);
        foreach (var (begin, end) in intervals.OrderBy(i => i.From))
        {
            var start = begin > reach ? begin : reach;
            if (end > start)
            {
                covered += end - start;
                reach = end;
            }
        }

        return covered;
    }

    /// <summary>A site-local time as UTC; one that a clock change skips counts from the hour after.</summary>
    private static DateTimeOffset Utc(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(zone.IsInvalidTime(local) ? local.AddHours(1) : local, zone), TimeSpan.Zero);
    }
}

[Flags]
public enum ShiftDays
{
    None = 0,
    Sunday = 1,
    Monday = 2,
    Tuesday = 4,
    Wednesday = 8,
    Thursday = 16,
    Friday = 32,
    Saturday = 64,
    Weekdays = Monday | Tuesday | Wednesday | Thursday | Friday,
    EveryDay = Weekdays | Saturday | Sunday,
}
