"""Recurrences as people write them ("every monday 9:00", "tous les 3 mois", "alle 2 Wochen", "daily"), and
when the occurrences of a calendar interval fall, in the writer's zone so that 09:00 stays 09:00 across DST.

The words come from the same per-language data files as the date reader (bot/core/words); the grammar of
times of day is the date reader's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from bot.core.when import (
    DEFAULT_TIME,
    MAX_COUNT,
    ImpossibleWhen,
    WhenError,
    _at,
    _clock,
    _comma,
    _count,
    _normalise,
    _Text,
)
from bot.core.words import ELAPSED_UNITS, entry_at, tokens, words
from bot.domain.model import Interval, Unit


@dataclass(frozen=True)
class IntervalReading:
    """An interval read at the start of a text; `marked` if a recurrence word (every, tous les) was there."""

    interval: Interval
    end: int
    marked: bool


# --- intervals ------------------------------------------------------------------------------------


def read_interval(text: str, language: str) -> IntervalReading:
    """An interval at the start of `text`: "every monday 9:00", "tous les 3 mois", "alle 2 Wochen", "daily".

    Counts run from 1 to 366; minutes and hours are not recurrences we keep.
    """
    t = _Text(text, tokens(text), words(language))
    start = t.match(t.words.marks, 0)
    marked = start >= 0
    found = _cycle(t, max(start, 0), marked)
    if found is None:
        raise WhenError(text)
    count, unit, weekday, end, marked = found
    if not 1 <= count <= MAX_COUNT:
        raise WhenError(text)
    clock = _clock(t, _comma(t, end))
    at = clock.at if clock else (DEFAULT_TIME if weekday is not None else None)
    end = clock.end if clock else end
    if not t.at_boundary(end) or _another_day_follows(t, end):
        raise WhenError(text)
    return IntervalReading(Interval(count, unit, weekday, at), t.end(end), marked)


def _another_day_follows(t: _Text, i: int) -> bool:
    """ "every monday and thursday", "every monday, thursday": one cycle is all we keep, so refuse."""
    j = i + 1 if t.mark(i, ",") else t.match(t.words.conjunctions, i)
    if j < 0:
        return False
    return t.match(t.words.weekdays, j) >= 0 or t.match(t.words.plural_weekdays, j) >= 0


def _cycle(t: _Text, i: int, marked: bool) -> tuple[int, Unit, int | None, int, bool] | None:
    """(count, unit, weekday, end, marked) of "2 weeks", "other week", "mondays", or "daily"."""
    if not marked and (end := t.match(t.words.adverbs, i)) >= 0:
        count, unit = t.words.adverbs[entry_at(t.toks, i, end)]
        return count, unit, None, end, True
    count, j = 1, i
    if (other := t.match(t.words.other, i)) >= 0:
        count, j = 2, other
    elif (counted := _count(t, i)) is not None:
        count, _, j = counted
    if (end := t.match(t.words.units, j)) >= 0:
        name = t.words.units[entry_at(t.toks, j, end)]
        return None if name in ELAPSED_UNITS else (count, Unit(name), None, end, marked)
    if (end := t.match(t.words.weekdays, j)) >= 0:
        return count, Unit.WEEK, t.words.weekdays[entry_at(t.toks, j, end)], end, marked
    if (end := t.match(t.words.plural_weekdays, j)) >= 0:  # "mondays", "montags": a habit
        return count, Unit.WEEK, t.words.plural_weekdays[entry_at(t.toks, j, end)], end, True
    return None


def parse_interval(text: str, language: str) -> Interval:
    """The whole text as one interval: '2 weeks', 'month', 'monday 9:00', '3 mois', 'Montag 9 Uhr'."""
    reading = read_interval(text, language)
    if text[reading.end :].strip():
        raise WhenError(text)
    return reading.interval


# --- recurrences ----------------------------------------------------------------------------------


def _step(interval: Interval) -> relativedelta:
    return {
        Unit.DAY: relativedelta(days=interval.count),
        Unit.WEEK: relativedelta(weeks=interval.count),
        Unit.MONTH: relativedelta(months=interval.count),
        Unit.YEAR: relativedelta(years=interval.count),
    }[interval.unit]


def _on_weekday(naive: datetime, interval: Interval) -> datetime:
    """A weekday cycle lands on its weekday, even after a snooze moved one occurrence."""
    if interval.weekday is None:
        return naive
    return naive + timedelta(days=(interval.weekday - naive.weekday()) % 7)


def first_occurrence(interval: Interval, zone: ZoneInfo, now: datetime) -> datetime:
    """When a new recurrence starts, at its time or 09:00 (never the clock time it was typed at): the next
    matching weekday, the next such time of day for a daily cycle, else one step from today."""
    local_now = now.astimezone(zone)
    at = interval.at or DEFAULT_TIME
    try:
        if interval.weekday is not None:
            candidate = _at(_on_weekday(local_now.replace(tzinfo=None), interval).date(), at, zone)
            if candidate <= local_now:
                candidate = _at(candidate.date() + timedelta(days=7), at, zone)
            return candidate
        if interval.unit is Unit.DAY:
            candidate = _at(local_now.date(), at, zone)
            return candidate if candidate > local_now else _at(local_now.date() + timedelta(days=1), at, zone)
        return _at(local_now.date() + _step(interval), at, zone)
    except (OverflowError, ValueError):
        raise ImpossibleWhen("year", str(local_now.year)) from None


def next_occurrence(interval: Interval, zone: ZoneInfo, previous: datetime) -> datetime:
    """The occurrence after `previous`, stepping in local wall-clock time so 09:00 stays 09:00."""
    local = previous.astimezone(zone).replace(tzinfo=None)
    try:
        naive = _on_weekday(local + _step(interval), interval)
        if interval.at is not None:
            naive = datetime.combine(naive.date(), interval.at)
        return _normalise(naive.replace(tzinfo=zone))
    except (OverflowError, ValueError):
        raise ImpossibleWhen("year", str(local.year)) from None
