"""When reminders go out (pure): the same local time days before across Cairo's DST
changes, exact hours otherwise, never in quiet hours, never in the past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from booklnk.booking.reminders import ReminderRules, plan
from booklnk.scheduling.localtime import reading

CAIRO = ZoneInfo("Africa/Cairo")
DEFAULT = ReminderRules(offsets_minutes=(1440, 120), quiet_hours_start=22, quiet_hours_end=9)
NO_QUIET = ReminderRules(offsets_minutes=(1440, 120), quiet_hours_start=0, quiet_hours_end=0)
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def _wall(at: datetime) -> tuple[int, int, int, int]:
    """Month, day, hour and minute on Cairo's wall clock."""
    local = at.astimezone(CAIRO)
    return local.month, local.day, local.hour, local.minute


def _local(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=CAIRO, fold=fold).astimezone(UTC)  # type: ignore[misc]


def test_the_day_before_at_the_same_local_time_across_the_autumn_change() -> None:
    """Cairo, 2026-10-29: 24:00 goes back to 23:00. Friday 10:00 is 25 hours after
    Thursday 10:00, and the reminder is said on Thursday at 10:00."""
    starts = _local(2026, 10, 30, 10, 0)
    day_before, two_hours = plan(starts, CAIRO, NO_QUIET, now=LONG_AGO)
    assert _wall(day_before.at) == (10, 29, 10, 0)
    assert starts - day_before.at == timedelta(hours=25)
    assert starts - two_hours.at == timedelta(hours=2)


def test_the_day_before_at_the_same_local_time_across_the_spring_change() -> None:
    """Cairo, 2026-04-24: 00:00 jumps to 01:00; Friday 10:00 is 23 hours after Thursday's."""
    starts = _local(2026, 4, 24, 10, 0)
    day_before, _ = plan(starts, CAIRO, NO_QUIET, now=LONG_AGO)
    assert _wall(day_before.at) == (4, 23, 10, 0)
    assert starts - day_before.at == timedelta(hours=23)


def test_in_the_repeated_hour_two_hours_is_two_real_hours() -> None:
    """A booking at the second 23:30 of 2026-10-29: its two-hour reminder is two elapsed
    hours before, which the wall clock reads as 22:30 (the hour between happened twice)."""
    starts = _local(2026, 10, 29, 23, 30, fold=1)
    two_hours = next(r for r in plan(starts, CAIRO, NO_QUIET, now=LONG_AGO) if r.minutes_before == 120)
    assert starts - two_hours.at == timedelta(hours=2)
    assert _wall(two_hours.at) == (10, 29, 22, 30)


def test_a_day_before_the_repeated_hour_goes_at_its_first_instance() -> None:
    starts = _local(2026, 10, 30, 23, 30)
    day_before = next(r for r in plan(starts, CAIRO, NO_QUIET, now=LONG_AGO) if r.minutes_before == 1440)
    assert day_before.at == _local(2026, 10, 29, 23, 30, fold=0)


def test_a_reminder_in_quiet_hours_goes_at_their_end_if_still_in_time() -> None:
    starts = _local(2026, 11, 26, 10, 0)  # two hours before is 08:00, inside 22:00-09:00
    two_hours = next(r for r in plan(starts, CAIRO, DEFAULT, now=LONG_AGO) if r.minutes_before == 120)
    assert _wall(two_hours.at) == (11, 26, 9, 0)


def test_quiet_hours_hold_a_reminder_until_they_end() -> None:
    starts = _local(2026, 11, 26, 8, 0)  # 24 h before is 08:00, inside 22:00-09:00
    day_before, two_hours = plan(starts, CAIRO, DEFAULT, now=LONG_AGO)
    assert _wall(day_before.at) == (11, 25, 9, 0)
    # 06:00 is quiet and 09:00 is after the start: it goes the evening before, at 21:59.
    assert _wall(two_hours.at) == (11, 25, 21, 59)


def test_reminders_already_past_are_not_planned() -> None:
    starts = _local(2026, 11, 26, 18, 0)
    planned = plan(starts, CAIRO, DEFAULT, now=starts - timedelta(hours=5))
    assert [r.minutes_before for r in planned] == [120]
    assert plan(starts, CAIRO, DEFAULT, now=starts - timedelta(hours=1)) == []


def test_an_offset_of_zero_is_off() -> None:
    rules = ReminderRules(offsets_minutes=(0, 120), quiet_hours_start=22, quiet_hours_end=9)
    assert [r.minutes_before for r in plan(_local(2026, 11, 26, 18, 0), CAIRO, rules, now=LONG_AGO)] == [120]


@given(
    # (hypothesis draws naive datetimes between naive bounds; each is made UTC at once)
    starts=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)).map(  # noqa: DTZ001
        lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
    ),
    offsets=st.lists(st.sampled_from([60, 120, 180, 1440, 2880]), min_size=1, max_size=3),
    quiet=st.tuples(st.integers(0, 23), st.integers(0, 23)),
    zone=st.sampled_from(["Africa/Cairo", "Europe/London", "America/New_York", "Asia/Dubai"]),
)
def test_every_reminder_is_before_the_start_outside_quiet_hours_and_exact_when_unmoved(
    starts: datetime, offsets: list[int], quiet: tuple[int, int], zone: str
) -> None:
    tz = ZoneInfo(zone)
    planned = plan(starts, tz, ReminderRules(tuple(offsets), *quiet), now=LONG_AGO)
    assert [r.at for r in planned] == sorted({r.at for r in planned})
    start, end = quiet
    for reminder in planned:
        assert reminder.at < starts
        hour = reading(reminder.at, tz).hour
        if start != end:
            assert not (start <= hour < end if start < end else hour >= start or hour < end)
            continue
        if reminder.minutes_before % 1440:
            assert starts - reminder.at == timedelta(minutes=reminder.minutes_before)
        else:
            # The same wall-clock time, or (that reading skipped by DST) the first after it.
            wall, said = reading(starts, tz), reading(reminder.at, tz)
            late = datetime.combine(said.date(), said.time()) - datetime.combine(said.date(), wall.time())
            assert timedelta(0) <= late <= timedelta(hours=1)
