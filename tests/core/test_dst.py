"""Recurring reminders across daylight-saving changes, with a clock the test moves in 15-minute steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.harness import Harness

PARIS = ZoneInfo("Europe/Paris")


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
