"""Dates, times and intervals as people write them, in their language and zone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core.recurrence import first_occurrence, next_occurrence, parse_interval
from bot.core.when import DEFAULT_TIME, WhenError, parse_when
from bot.domain.model import Interval, Unit

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)  # Monday


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("language", "phrase", "expected"),
    [
        ("en", "tomorrow 9:00", local(2026, 11, 24, 9, 0)),
        ("en", "tomorrow at 9", local(2026, 11, 24, 9, 0)),
        ("en", "in 2 days", local(2026, 11, 25, 9, 0)),  # a date without a time is 09:00
        ("en", "next monday", local(2026, 11, 30, 9, 0)),
        ("en", "friday 3pm", local(2026, 11, 27, 15, 0)),
        ("en", "2026-12-01 14:30", local(2026, 12, 1, 14, 30)),
        ("en", "in 3 hours", local(2026, 11, 23, 13, 0)),
        ("en", "8:00", local(2026, 11, 24, 8, 0)),
        ("de", "morgen um 9 Uhr", local(2026, 11, 24, 9, 0)),
        ("de", "nächsten Montag 14:00", local(2026, 11, 30, 14, 0)),
        ("de", "in 2 Tagen", local(2026, 11, 25, 9, 0)),
        ("fr", "demain 9h", local(2026, 11, 24, 9, 0)),
        ("fr", "lundi prochain à 14h30", local(2026, 11, 30, 14, 30)),
        ("fr", "01/12/2026", local(2026, 12, 1, 9, 0)),
    ],
)
def test_phrases_keep_their_hour(language: str, phrase: str, expected: datetime) -> None:
    assert parse_when(phrase, language, PARIS, NOW) == expected


@pytest.mark.parametrize("phrase", ["", "call", "1", "42", "someday"])
def test_not_dates(phrase: str) -> None:
    with pytest.raises(WhenError):
        parse_when(phrase, "en", PARIS, NOW)


@pytest.mark.parametrize(
    ("language", "phrase", "expected"),
    [
        ("en", "2 weeks", Interval(2, Unit.WEEK)),
        ("en", "month", Interval(1, Unit.MONTH)),
        ("en", "monday 9:00", Interval(1, Unit.WEEK, 0, time(9, 0))),
        ("en", "day 8:00", Interval(1, Unit.DAY, None, time(8, 0))),
        ("fr", "3 mois", Interval(3, Unit.MONTH)),
        ("de", "Montag 9 Uhr", Interval(1, Unit.WEEK, 0, time(9, 0))),
        ("de", "2 Wochen", Interval(2, Unit.WEEK)),
    ],
)
def test_intervals(language: str, phrase: str, expected: Interval) -> None:
    interval = parse_interval(phrase, language)
    assert interval == expected
    assert Interval.decode(interval.encode()) == interval


def test_months_are_calendar_months() -> None:
    end_of_january = datetime(2027, 1, 31, 9, 0, tzinfo=PARIS)
    assert next_occurrence(Interval(1, Unit.MONTH), PARIS, end_of_january) == datetime(
        2027, 2, 28, 9, 0, tzinfo=PARIS
    )


def test_daily_nine_oclock_survives_both_dst_changes() -> None:
    daily = Interval(1, Unit.DAY, None, time(9, 0))
    moment = datetime(2027, 3, 26, 9, 0, tzinfo=PARIS)
    seen = []
    for _ in range(5):  # across 28 March 2027, clocks go forward
        moment = next_occurrence(daily, PARIS, moment)
        seen.append(moment)
    assert all(m.astimezone(PARIS).hour == 9 for m in seen)
    assert seen[0].astimezone(UTC).hour == 8 and seen[1].astimezone(UTC).hour == 7
    autumn = datetime(2027, 10, 29, 9, 0, tzinfo=PARIS)
    after = [next_occurrence(daily, PARIS, autumn)]
    after.append(next_occurrence(daily, PARIS, after[-1]))
    after.append(next_occurrence(daily, PARIS, after[-1]))
    assert [m.astimezone(PARIS).hour for m in after] == [9, 9, 9]
    assert [m.astimezone(UTC).hour for m in after] == [7, 8, 8]


def test_a_nightly_reminder_fires_once_when_clocks_go_back() -> None:
    nightly = Interval(1, Unit.DAY, None, time(2, 30))
    start = datetime(2027, 10, 30, 2, 30, tzinfo=PARIS)
    first = next_occurrence(nightly, PARIS, start)
    second = next_occurrence(nightly, PARIS, first)
    gap = second.astimezone(UTC) - first.astimezone(UTC)
    assert gap.total_seconds() == 24 * 3600 + 3600  # one 02:30 on the long night, not two
    spring = next_occurrence(nightly, PARIS, datetime(2027, 3, 27, 2, 30, tzinfo=PARIS))
    assert spring.astimezone(PARIS).hour == 3  # 02:30 does not exist on 28 March: it fires at 03:30


def test_weekday_first_occurrence() -> None:
    interval = parse_interval("monday 9:00", "en")
    assert first_occurrence(interval, PARIS, NOW) == datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)


def test_a_weekday_cycle_stays_on_its_weekday_after_a_moved_occurrence() -> None:
    every_monday = parse_interval("every monday 9:00", "en")
    snoozed_to_tuesday = datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)
    following = next_occurrence(every_monday, PARIS, snoozed_to_tuesday)
    assert following == datetime(2026, 12, 14, 9, 0, tzinfo=PARIS)
    assert following.weekday() == 0


def test_the_default_time_is_nine() -> None:
    assert time(9, 0) == DEFAULT_TIME
