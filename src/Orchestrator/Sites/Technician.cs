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
