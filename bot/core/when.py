"""Dates, times and intervals as people write them, in their own language and time zone.

dateparser understands most phrases but drops or mangles the hour in several languages ("morgen um 9
Uhr" gives the current time, "demain 9h" gives 19:00) and does not know "nächsten Montag". So the time
of day is taken out first by a small grammar of our own, the rest is handed to dateparser, and the two
are joined in the writer's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser
from babel import Locale
from dateutil.relativedelta import relativedelta

from bot.domain.model import Interval, Unit

DEFAULT_TIME = time(9, 0)

_TIME = re.compile(
    r"""(?:^|\s)(?P<prep>at\s+|um\s+|à\s+|a\s+|alle\s+|om\s+|a\s+las\s+|о\s+|في\s+)?
        (?P<h>[01]?\d|2[0-3])
        (?:(?P<sep>[:h.])(?P<m>[0-5]\d)?)?
        \s*(?P<suffix>uhr|h|am|pm|a\.m\.|p\.m\.)?
        (?=\s|$)""",
    re.IGNORECASE | re.VERBOSE,
)

_NEXT_WORDS = {
    "en": ("next", "this", "coming"),
    "fr": ("prochain", "prochaine", "ce", "cette"),
    "de": ("nächsten", "nächster", "nächste", "kommenden", "kommender", "am"),
}

_UNITS: dict[str, dict[str, Unit]] = {
    "en": {
        "day": Unit.DAY,
        "days": Unit.DAY,
        "daily": Unit.DAY,
        "week": Unit.WEEK,
        "weeks": Unit.WEEK,
        "weekly": Unit.WEEK,
        "month": Unit.MONTH,
        "months": Unit.MONTH,
        "monthly": Unit.MONTH,
        "year": Unit.YEAR,
        "years": Unit.YEAR,
        "yearly": Unit.YEAR,
    },
    "fr": {
        "jour": Unit.DAY,
        "jours": Unit.DAY,
        "semaine": Unit.WEEK,
        "semaines": Unit.WEEK,
        "mois": Unit.MONTH,
        "an": Unit.YEAR,
        "ans": Unit.YEAR,
        "année": Unit.YEAR,
        "années": Unit.YEAR,
    },
    "de": {
        "tag": Unit.DAY,
        "tage": Unit.DAY,
        "tagen": Unit.DAY,
        "täglich": Unit.DAY,
        "woche": Unit.WEEK,
        "wochen": Unit.WEEK,
        "wöchentlich": Unit.WEEK,
        "monat": Unit.MONTH,
        "monate": Unit.MONTH,
        "monaten": Unit.MONTH,
        "monatlich": Unit.MONTH,
        "jahr": Unit.YEAR,
        "jahre": Unit.YEAR,
    },
}

# Words a parser must not take for a date on their own: dateparser reads "1" as the 1st of a month.
_HAS_DATE_SHAPE = re.compile(r"[^\W\d_]|\d+[-/.]\d+")


class WhenError(ValueError):
    """The phrase is not a date, time or interval we understand."""


@dataclass(frozen=True)
class TimeOfDay:
    at: time
    rest: str


def _take_time(text: str) -> TimeOfDay | None:
    for match in _TIME.finditer(text):
        suffix = (match.group("suffix") or "").lower()
        has_minutes = match.group("m") is not None
        # A bare number ("in 2 days") is not a time; it needs minutes, h, Uhr, am, pm or "at".
        if not (has_minutes or suffix or match.group("sep") == "h" or match.group("prep")):
            continue
        hour, minute = int(match.group("h")), int(match.group("m") or 0)
        if suffix.startswith("p") and hour < 12:
            hour += 12
        elif suffix.startswith("a") and hour == 12:
            hour = 0
        rest = (text[: match.start()] + " " + text[match.end() :]).strip()
        rest = re.sub(r"\s+(at|um|à|a|alle|om)$", "", rest, flags=re.IGNORECASE)
        return TimeOfDay(time(hour, minute), rest)
    return None


def _strip_next(words: str, language: str) -> str:
    drop = set(_NEXT_WORDS.get(language, ())) | set(_NEXT_WORDS["en"])
    kept = [w for w in words.split() if w.lower() not in drop]
    return " ".join(kept)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at).replace(tzinfo=zone)


def parse_when(text: str, language: str, zone: ZoneInfo, now: datetime) -> datetime:
    """A moment from a phrase such as 'tomorrow 9:00', 'in 2 days', 'next monday', '2026-12-01 14:30'.

    Returns an aware datetime; raises WhenError for what is not a date. A date without a time means
    09:00 local. Whether the moment is in the past is the caller's concern.
    """
    phrase = " ".join(text.split())
    if not phrase:
        raise WhenError(text)
    local_now = now.astimezone(zone)
    found = _take_time(phrase)
    date_part = found.rest if found else phrase
    if found and not date_part:
        candidate = _local(local_now.date(), found.at, zone)
        return (
            candidate
            if candidate > local_now
            else _local(local_now.date() + timedelta(days=1), found.at, zone)
        )
    if not _HAS_DATE_SHAPE.search(date_part):
        raise WhenError(text)
    settings: dict[str, object] = {
        "TIMEZONE": str(zone),
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "PREFER_DAY_OF_MONTH": "first",
        "DATE_ORDER": "DMY" if language != "en" else "MDY",
    }
    languages = [language] if language == "en" else [language, "en"]
    parsed = None
    for candidate_text in (date_part, _strip_next(date_part, language)):
        if candidate_text:
            parsed = dateparser.parse(candidate_text, languages=languages, settings=settings)
            if parsed is not None:
                break
    if parsed is None:
        raise WhenError(text)
    parsed = parsed.astimezone(zone)
    if found:
        return _local(parsed.date(), found.at, zone)
    if parsed.time() == time(0, 0) and not re.search(r"\b0?0[:h.]00\b", phrase):
        return _local(parsed.date(), DEFAULT_TIME, zone)
    return parsed


def _weekdays(language: str) -> dict[str, int]:
    names: dict[str, int] = {}
    for code in {language, "en"}:
        days = Locale.parse(code).days["format"]
        for width in ("wide", "abbreviated"):
            for index, name in days[width].items():
                names[str(name).lower().rstrip(".")] = int(index)
    return names


def parse_interval(text: str, language: str) -> Interval:
    """'2 weeks', 'month', 'monday 9:00', '3 mois', 'Montag 9 Uhr' -> Interval. Raises WhenError."""
    phrase = " ".join(text.lower().split())
    found = _take_time(phrase)
    at = found.at if found else None
    words = (found.rest if found else phrase).split()
    words = [
        w for w in words if w not in ("every", "each", "tous", "toutes", "les", "le", "jeden", "jede", "alle")
    ]
    units = {**_UNITS["en"], **_UNITS.get(language, {})}
    weekdays = _weekdays(language)
    count = 1
    if words and words[0].isdigit():
        count = int(words.pop(0))
        if not 1 <= count <= 366:
            raise WhenError(text)
    if len(words) != 1:
        raise WhenError(text)
    word = words[0].rstrip(".")
    if word in units:
        return Interval(count, units[word], None, at)
    if word in weekdays:
        return Interval(count, Unit.WEEK, weekdays[word], at or DEFAULT_TIME)
    if word.endswith("s") and word[:-1] in weekdays:  # "mondays"
        return Interval(count, Unit.WEEK, weekdays[word[:-1]], at or DEFAULT_TIME)
    raise WhenError(text)


def _step(interval: Interval) -> relativedelta:
    return {
        Unit.DAY: relativedelta(days=interval.count),
        Unit.WEEK: relativedelta(weeks=interval.count),
        Unit.MONTH: relativedelta(months=interval.count),
        Unit.YEAR: relativedelta(years=interval.count),
    }[interval.unit]


def first_occurrence(interval: Interval, zone: ZoneInfo, now: datetime) -> datetime:
    """When a new recurrence starts: one step from now, or the next matching weekday and time."""
    local_now = now.astimezone(zone)
    if interval.weekday is not None:
        at = interval.at or DEFAULT_TIME
        days_ahead = (interval.weekday - local_now.weekday()) % 7
        candidate = _local(local_now.date() + timedelta(days=days_ahead), at, zone)
        if candidate <= local_now:
            candidate = _local(candidate.date() + timedelta(days=7), at, zone)
        return _normalise(candidate)
    naive = local_now.replace(tzinfo=None) + _step(interval)
    if interval.at is not None:
        naive = datetime.combine(naive.date(), interval.at)
    return _normalise(naive.replace(tzinfo=zone))


def next_occurrence(interval: Interval, zone: ZoneInfo, previous: datetime) -> datetime:
    """The occurrence after `previous`, stepping in local wall-clock time so 09:00 stays 09:00."""
    local = previous.astimezone(zone).replace(tzinfo=None)
    naive = local + _step(interval)
    if interval.at is not None:
        naive = datetime.combine(naive.date(), interval.at)
    return _normalise(naive.replace(tzinfo=zone))


def _normalise(moment: datetime) -> datetime:
    """Resolve wall-clock times that DST skips (02:30 on the spring-forward night) to a real moment.

    With fold=0 zoneinfo reads a skipped time with the offset from before the change, so 02:30 becomes
    03:30 summer time: the reminder comes an hour late on that one night instead of never.
    """
    zone = moment.tzinfo
    assert isinstance(zone, ZoneInfo)
    return moment.replace(fold=0).astimezone(ZoneInfo("UTC")).astimezone(zone)
