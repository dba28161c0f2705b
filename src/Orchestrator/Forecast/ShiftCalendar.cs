using Reimage.Orchestrator.Sites;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// One technician's roster on the simulated clock (seconds after the plan's start). Whether they are on shift is
/// always <see cref="Shift.Covers"/>, the live rule, in the site's zone; this class only finds the next moment worth
/// asking again (a shift's start or end), so the simulation need not ask at every event.
/// </summary>
internal sealed class ShiftCalendar(IReadOnlyList<ForecastShift> shifts, TimeZoneInfo zone, DateTimeOffset start)
{
    public bool HasShifts => shifts.Count > 0;

    public bool Covers(double at)
    {
        var local = TimeZoneInfo.ConvertTime(start.AddSeconds(at), zone).DateTime;
        foreach (var s in shifts)
        {
            if (Shift.Covers(s.Days, s.Starts, s.Ends, local))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The next shift start or end after <paramref name="at"/>, or +∞ with no shifts. Found in local time and converted
    /// once; a boundary inside a daylight-saving gap moves an hour later. Where a clock change makes this an hour off,
    /// the answer is still right at the next boundary, because on-shift is re-read with <see cref="Covers"/> there.
    /// </summary>
    public double NextBoundary(double at)
    {
        if (shifts.Count == 0)
        {
            return double.PositiveInfinity;
        }

        var local = TimeZoneInfo.ConvertTime(start.AddSeconds(at), zone).DateTime;
        var best = DateTime.MaxValue;
        for (var day = local.Date.AddDays(-1); day <= local.Date.AddDays(7); day = day.AddDays(1))
        {
            var flag = Shift.ShiftDaysOf(day.DayOfWeek);
            foreach (var s in shifts)
            {
                if (!s.Days.HasFlag(flag))
                {
                    continue;
                }

                var begins = day + s.Starts.ToTimeSpan();
                var ends = (s.Starts < s.Ends ? day : day.AddDays(1)) + s.Ends.ToTimeSpan();
                if (begins > local && begins < best)
                {
                    best = begins;
                }

                if (ends > local && ends < best)
                {
                    best = ends;
                }
            }
        }

        if (best == DateTime.MaxValue)
        {
            return double.PositiveInfinity;
        }

        best = DateTime.SpecifyKind(best, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(best))
        {
            best = best.AddHours(1);
        }

        var next = (new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(best, zone), TimeSpan.Zero) - start).TotalSeconds;
        // Never stand still: a boundary that maps to now or earlier (clocks went back) is asked again a minute on.
        return next > at ? next : at + 60;
    }
}
