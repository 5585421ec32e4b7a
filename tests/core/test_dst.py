"""Recurring reminders across daylight-saving changes, with a clock the test moves in 15-minute steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.when import parse_when, read_when
from tests.harness import Harness

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "tomorrow 2:30"), ("fr", "demain 2h30"), ("de", "morgen um 2:30 Uhr"), ("en", "28/03/2027 2:30")],
)
def test_a_time_that_daylight_saving_skips_is_the_moment_it_really_fires(language: str, text: str) -> None:
    before_spring_forward = datetime(2027, 3, 27, 10, 0, tzinfo=PARIS)
    moment = parse_when(text, language, PARIS, before_spring_forward)
    assert moment.astimezone(PARIS).strftime("%d %H:%M") == "28 03:30"  # 02:30 does not exist that night
    assert moment.astimezone(UTC).strftime("%H:%M") == "01:30"


def test_a_time_that_happens_twice_is_the_first_one() -> None:
    reading = read_when("tomorrow 2:30 night check", "en", PARIS, datetime(2027, 10, 30, 10, 0, tzinfo=PARIS))
    assert reading.moment.astimezone(UTC).strftime("%d %H:%M") == "31 00:30"  # summer time, before the change


def test_a_date_without_time_is_nine_local_on_both_sides_of_a_change() -> None:
    now = datetime(2027, 3, 27, 10, 0, tzinfo=PARIS)
    assert [parse_when(t, "en", PARIS, now).astimezone(UTC).hour for t in ("today", "in 2 days")] == [8, 7]


async def _firing_times(h: Harness, ref: str, days: int) -> list[datetime]:
    times: list[datetime] = []
    for _ in range(days * 96):
        fired = await h.advance(timedelta(minutes=15))
        times.extend(h.clock.now() for m in fired if "Reminder:" in m.text)
    return times


async def test_daily_nine_oclock_in_paris_across_spring_forward(sqlite_url: str) -> None:
    h = await Harness.create(sqlite_url, datetime(2027, 3, 25, 12, 0, tzinfo=UTC))
    try:
        ref = await h.open_case()
        await h.one("alice", "!remind me every day 9:00 pill", ref)
        times = await _firing_times(h, ref, 5)
        assert [t.astimezone(PARIS).strftime("%d %H:%M") for t in times] == [
            "26 09:00",
            "27 09:00",
            "28 09:00",
            "29 09:00",
            "30 09:00",
        ]
        assert [t.hour for t in times] == [8, 8, 7, 7, 7]  # UTC moves, local time does not
    finally:
        await h.close()


async def test_a_half_past_two_reminder_fires_once_on_the_night_clocks_go_back(sqlite_url: str) -> None:
    h = await Harness.create(sqlite_url, datetime(2027, 10, 29, 12, 0, tzinfo=UTC))
    try:
        ref = await h.open_case()
        await h.one("alice", "!remind me every day 2:30 night check", ref)
        times = await _firing_times(h, ref, 4)
        local = [t.astimezone(PARIS).strftime("%d %H:%M") for t in times]
        assert local == ["30 02:30", "31 02:30", "01 02:30", "02 02:30"]  # 31 Oct: once, not twice
    finally:
        await h.close()
