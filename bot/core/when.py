"""Dates and times as people write them, in their own language and zone (recurrences: bot/core/recurrence.py).

A small deterministic grammar, not a guessing parser: it reads the date phrase at the START of a text and
says exactly where it ends, so the text after it is kept as typed ("tomorrow 9:00 2 pills of aspirin" keeps
"2 pills of aspirin"). What it cannot read is refused (WhenError); what has the shape of a date or time
but cannot exist (31 February, 25:00) is refused as such (ImpossibleWhen) — nothing is ever reinterpreted.
The words of each language are data (bot/core/words/<language>.toml, months and weekdays from CLDR).

Decisions, so that nobody has to guess what the bot will do:
- A date without a time is 09:00 local; only "in N hours/minutes" keep the clock time.
- A bare number is never a time: it needs minutes (9:00), a suffix (9h, 9 Uhr, 3pm) or "at"/"um"/"à".
- 1/12/2026 and 01.12.2026 are day first in every shipped language; 12/13 is refused (month 13).
- A time alone is the next such time (today if still ahead, else tomorrow). A weekday alone is the next
  one; today's weekday means next week unless a time later today is given ("monday 14:00" on a Monday
  morning is today). "next monday" is the coming Monday, never today. A day and month without a year is
  this year, or next year when that day is already behind us (today stays today).
- "this evening"/"tonight"/"ce soir"/"heute Abend" are 19:00 today (afternoon 15:00, morning 08:00), and
  a time given with them is read in that part of the day ("ce soir à 8h" is 20:00). They do not move to
  tomorrow: if the evening is over, the caller refuses a past moment. "midnight" and "noon" alone are
  the next ones.
- "in 1 month", "next month" keep the day of the month, calendar-aware (31 Jan -> 28/29 Feb).
- A wall time that daylight saving skips (02:30 on the spring-forward night) is the moment it really
  fires, 03:30 local.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from bot.core.words import ELAPSED_UNITS, Phrase, Token, Words, entry_at, longest, tokens, words

DEFAULT_TIME = time(9, 0)
MIN_YEAR, MAX_YEAR = 1900, 9999
MAX_COUNT = 366
_UTC = ZoneInfo("UTC")
_DATE_SEPARATORS = ("/", ".", "-")

Problem = Literal["day", "month", "hour", "minute", "year"]


class WhenError(ValueError):
    """The phrase is not a date, time or interval we understand."""


class ImpossibleWhen(WhenError):
    """The phrase has the shape of a date or time that cannot exist; the caller explains which piece."""

    def __init__(self, problem: Problem, value: str) -> None:
        super().__init__(f"impossible {problem}: {value!r}")
        self.problem: Problem = problem
        self.value = value


@dataclass(frozen=True)
class Reading:
    """A moment read at the start of a text; `text[end:]` is the rest exactly as typed."""

    moment: datetime
    end: int


@dataclass(frozen=True)
class _Text:
    """The tokens of the text being read, with the helpers every rule of the grammar needs."""

    text: str
    toks: tuple[Token, ...]
    words: Words

    def number(self, i: int, max_digits: int = 0) -> Token | None:
        tok = self.toks[i] if 0 <= i < len(self.toks) else None
        if tok is None or tok.kind != "number" or (max_digits and len(tok.norm) > max_digits):
            return None
        return tok

    def mark(self, i: int, chars: str | tuple[str, ...] | frozenset[str]) -> str | None:
        tok = self.toks[i] if 0 <= i < len(self.toks) else None
        return tok.norm if tok is not None and tok.kind == "mark" and tok.norm in chars else None

    def glued(self, i: int) -> bool:
        """Token i touches the token before it (no space between)."""
        return 0 < i < len(self.toks) and self.toks[i - 1].end == self.toks[i].start

    def match(self, table: Mapping[Phrase, object] | frozenset[Phrase], i: int) -> int:
        return longest(table, self.toks, i)

    def typed(self, tok: Token) -> str:
        return self.text[tok.start : tok.end]

    def end(self, i: int) -> int:
        """Offset in the text where the phrase made of tokens before i ends."""
        return self.toks[i - 1].end

    def at_boundary(self, i: int) -> bool:
        """A phrase may end before token i only where a word ends: not inside "today's" or "9:00:1x"."""
        if i >= len(self.toks) or not self.glued(i):
            return True
        after = self.toks[i + 1] if i + 1 < len(self.toks) else None
        glued_word = after is not None and after.kind != "mark" and self.glued(i + 1)
        return self.toks[i].kind == "mark" and not glued_word


@dataclass(frozen=True)
class _Clock:
    at: time
    end: int
    plain_hour: bool  # 1..11 without am/pm: "this evening at 8" may be read as 20:00


@dataclass(frozen=True)
class _Day:
    day: date
    end: int
    today: date | None = None  # a bare weekday naming today: used when a later time today is given
    part: time | None = None  # "tomorrow evening": the time when none is given


# --- times of day ---------------------------------------------------------------------------------


def _clock(t: _Text, i: int) -> _Clock | None:
    """A time of day at token i: "9:00", "9h30", "9 Uhr", "3pm", "at 9", "noon", "um Mitternacht"."""
    after_prep = t.match(t.words.time_prepositions, i)
    if after_prep >= 0 and (found := _clock_body(t, after_prep, with_prep=True)) is not None:
        return found
    return _clock_body(t, i, with_prep=False)


def _clock_body(t: _Text, i: int, with_prep: bool) -> _Clock | None:
    named = t.match(t.words.times, i)
    if named >= 0:
        return _Clock(t.words.times[entry_at(t.toks, i, named)], named, False)
    hour = t.number(i)
    if hour is None:
        return None
    j, minute, second = _minutes(t, i + 1)
    half = _half_of_day(t, j)
    if half is not None:
        j = t.match(t.words.pm if half == "pm" else t.words.am, j)
    else:
        suffix = t.match(t.words.hour_suffixes, j)
        if suffix >= 0:
            if minute is None and _minutes_after_suffix(t, suffix):
                minute, j = t.toks[suffix], suffix + 1
            else:
                j = suffix
        elif minute is None and not (with_prep and len(hour.norm) <= 2):
            return None  # a bare number is a count ("10 boxes"), never a time
    return _Clock(_valid_time(t, hour, minute, second, half), j, half is None and 1 <= hour.value <= 11)


def _minutes(t: _Text, j: int) -> tuple[int, Token | None, Token | None]:
    """ ":30" or ".30" (where the language writes times so) and an optional ":00" of seconds after it."""
    sep = t.mark(j, t.words.time_separators)
    minute = t.number(j + 1)
    if sep is None or minute is None or not (t.glued(j) and t.glued(j + 1)):
        return j, None, None
    if len(minute.norm) != 2:
        if sep == ":":
            raise WhenError(t.text)  # "9:5" is a time written wrongly, not a number
        return j, None, None
    second = t.number(j + 3, max_digits=2)
    if t.mark(j + 2, ":") and second is not None and t.glued(j + 2) and t.glued(j + 3):
        return j + 4, minute, second
    return j + 2, minute, None


def _minutes_after_suffix(t: _Text, j: int) -> bool:
    """ "9h30", and the French typographic "9 h 30"; not "9 Uhr 30 Tabletten"."""
    minute = t.number(j, max_digits=2)
    if minute is None or len(minute.norm) != 2:
        return False
    return t.glued(j) or (t.toks[j - 1].norm == "h" and not t.glued(j - 1))


def _half_of_day(t: _Text, j: int) -> Literal["am", "pm"] | None:
    if t.match(t.words.pm, j) >= 0:
        return "pm"
    if t.match(t.words.am, j) >= 0:
        return "am"
    return None


def _valid_time(
    t: _Text, hour: Token, minute: Token | None, second: Token | None, half: Literal["am", "pm"] | None
) -> time:
    h = hour.value
    if half is not None:
        if not 1 <= h <= 12:
            raise ImpossibleWhen("hour", t.typed(hour))
        h = h % 12 + (12 if half == "pm" else 0)
    elif h > 23 or len(hour.norm) > 2:
        raise ImpossibleWhen("hour", t.typed(hour))
    m = minute.value if minute is not None else 0
    if m > 59:
        raise ImpossibleWhen("minute", t.typed(minute) if minute is not None else "")
    s = second.value if second is not None else 0
    if s > 59:
        raise WhenError(t.text)
    return time(h, m, s)


# --- days -----------------------------------------------------------------------------------------


def _date(t: _Text, i: int, today: date) -> _Day | None:
    """The longest day phrase at token i, with an optional "on"/"le"/"am" before it."""
    starts = [i]
    after_prep = t.match(t.words.date_prepositions, i)
    if after_prep >= 0:
        starts.append(after_prep)
    found = [
        day
        for start in starts
        for rule in (_named_day, _this_part, _weekday, _next_unit, _in_days, _absolute)
        if (day := rule(t, start, today)) is not None
    ]
    return max(found, key=lambda d: d.end, default=None)


def _with_part(t: _Text, j: int, day: date, today: date | None = None) -> _Day:
    """A day, and "evening"/"soir"/"Abend" after it if there is one."""
    end = t.match(t.words.parts, j)
    if end >= 0:
        return _Day(day, end, None, t.words.parts[entry_at(t.toks, j, end)])
    return _Day(day, j, today)


def _named_day(t: _Text, i: int, today: date) -> _Day | None:
    end = t.match(t.words.days, i)
    if end < 0:
        return None
    return _with_part(t, end, today + timedelta(days=t.words.days[entry_at(t.toks, i, end)]))


def _this_part(t: _Text, i: int, today: date) -> _Day | None:
    end = t.match(t.words.tonight, i)
    if end >= 0:
        return _Day(today, end, None, t.words.tonight[entry_at(t.toks, i, end)])
    this = t.match(t.words.this, i)
    if this >= 0 and t.match(t.words.parts, this) >= 0:
        return _with_part(t, this, today)
    return None


def _weekday(t: _Text, i: int, today: date) -> _Day | None:
    """ "monday", "next monday", "lundi prochain", "nächsten Montag", "Tuesday 24 Nov" (checked)."""
    j, forced_next = i, False
    if (after := t.match(t.words.next_before, j)) >= 0:
        j, forced_next = after, True
    elif (after := t.match(t.words.this, j)) >= 0:
        j = after
    end = t.match(t.words.weekdays, j)
    if end < 0:
        return None
    weekday = t.words.weekdays[entry_at(t.toks, j, end)]
    if (after := t.match(t.words.next_after, end)) >= 0:
        end, forced_next = after, True
    exact = _absolute(t, end + 1 if t.mark(end, ",") else end, today)
    if exact is not None:
        if exact.day.weekday() != weekday:
            raise WhenError(t.text)  # "Tuesday 25 Nov" when the 25th is a Wednesday: ask, do not pick
        return exact
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0:
        return _with_part(t, end, today + timedelta(days=7), None if forced_next else today)
    return _with_part(t, end, today + timedelta(days=ahead))


def _next_unit(t: _Text, i: int, today: date) -> _Day | None:
    """ "next week", "le mois prochain", "nächstes Jahr": one calendar unit from today."""
    before = t.match(t.words.next_before, i)
    unit_at = before if before >= 0 else i
    unit_end = t.match(t.words.units, unit_at)
    if unit_end < 0:
        return None
    end = unit_end if before >= 0 else t.match(t.words.next_after, unit_end)
    unit = t.words.units[entry_at(t.toks, unit_at, unit_end)]
    if end < 0 or unit in ELAPSED_UNITS:
        return None
    return _Day(_shift(today, unit, 1, "1"), end)


def _in_days(t: _Text, i: int, today: date) -> _Day | None:
    found = _in_units(t, i)
    if found is None or found[1] in ELAPSED_UNITS:
        return None
    count, unit, typed, end = found
    return _Day(_shift(today, unit, count, typed), end)


def _in_units(t: _Text, i: int) -> tuple[int, str, str, int] | None:
    """ "in 3 days", "dans une semaine", "in zwei Wochen": (count, unit, count as typed, end)."""
    j = t.match(t.words.within, i)
    counted = _count(t, j) if j >= 0 else None
    if counted is None:
        return None
    count, typed, k = counted
    end = t.match(t.words.units, k)
    if end < 0:
        return None
    return count, t.words.units[entry_at(t.toks, k, end)], typed, end


def _count(t: _Text, i: int) -> tuple[int, str, int] | None:
    number = t.number(i)
    if number is not None:
        if number.too_long:  # "in 12345678901 seconds": refused, never rounded to something else
            raise ImpossibleWhen("year", t.typed(number))
        return number.value, t.typed(number), i + 1
    end = t.match(t.words.numbers, i)
    if end < 0:
        return None
    return t.words.numbers[entry_at(t.toks, i, end)], t.text[t.toks[i].start : t.end(end)], end


def _shift(day: date, unit: str, count: int, typed: str) -> date:
    try:
        return day + _calendar_step(unit, count)
    except (OverflowError, ValueError):
        raise ImpossibleWhen("year", typed) from None


def _calendar_step(unit: str, count: int) -> relativedelta:
    """Calendar units: a month later keeps the day of the month (31 Jan -> 28/29 Feb)."""
    if unit == "year":
        return relativedelta(years=count)
    if unit == "month":
        return relativedelta(months=count)
    return relativedelta(weeks=count) if unit == "week" else relativedelta(days=count)


# --- dates written out: 24/12, 2026-12-24, 24 Nov, Nov 24, 24. November 2026 ---------------------------


def _absolute(t: _Text, i: int, today: date) -> _Day | None:
    found = [day for rule in (_numeric_date, _named_date) if (day := rule(t, i, today)) is not None]
    return max(found, key=lambda d: d.end, default=None)


def _numeric_date(t: _Text, i: int, today: date) -> _Day | None:
    first, sep, second = t.number(i), t.mark(i + 1, _DATE_SEPARATORS), t.number(i + 2)
    if first is None or sep is None or second is None or not (t.glued(i + 1) and t.glued(i + 2)):
        return None
    third = t.number(i + 4)
    if not (t.mark(i + 3, sep) and third is not None and t.glued(i + 3) and t.glued(i + 4)):
        third = None
    if sep == "-":  # ISO 8601 only; "2-3 pills" is not a date
        if third is None or len(first.norm) < 3:
            return None
        return _Day(_full_date(t, first, second, third), i + 5)
    day, month = (first, second) if t.words.day_first else (second, first)
    if third is not None:
        return _Day(_full_date(t, third, month, day), i + 5)
    if sep == ".":  # 24.12. has its final dot; 14.30 (or 14.30. ending a sentence) is a time
        if not (t.mark(i + 3, ".") and t.glued(i + 3)) or not 1 <= month.value <= 12:
            return None
        return _Day(_yearless(t, day, month.value, today), i + 4)
    return _Day(_yearless(t, day, _month(t, month), today), i + 3)


def _named_date(t: _Text, i: int, today: date) -> _Day | None:
    """ "24 Nov", "24th of November", "1er décembre", "24. November 2026", and in English "Nov 24, 2026"."""
    day = t.number(i)
    if day is not None:
        j = _after_ordinal(t, i + 1)
        j = max(j, t.match(t.words.day_month_joiners, j))
        month_end = t.match(t.words.months, j)
        if month_end < 0 or len(day.norm) > 2:
            return None
        month = t.words.months[entry_at(t.toks, j, month_end)]
        return _with_year(t, _skip_dot(t, month_end), day, month, today)
    month_end = t.match(t.words.months, i) if t.words.month_name_first else -1
    day = t.number(_skip_dot(t, month_end), max_digits=2) if month_end >= 0 else None
    if day is None:
        return None
    month = t.words.months[entry_at(t.toks, i, month_end)]
    j = _after_ordinal(t, _skip_dot(t, month_end) + 1)
    year = t.number(j + 1) if t.mark(j, ",") else None
    return _with_year(t, j + 1 if year is not None and len(year.norm) >= 4 else j, day, month, today)


def _after_ordinal(t: _Text, j: int) -> int:
    end = t.match(t.words.ordinal_suffixes, j)
    return end if end >= 0 and t.glued(j) else j


def _skip_dot(t: _Text, j: int) -> int:
    """ "nov." and "Sept.": the abbreviation's dot belongs to the month."""
    return j + 1 if t.mark(j, ".") and t.glued(j) else j


def _with_year(t: _Text, j: int, day: Token, month: int, today: date) -> _Day:
    year = t.number(j)
    if year is not None and len(year.norm) >= 4:  # "24 Nov 2 pills": 2 is not a year
        return _Day(_valid_date(t, year, month, day), j + 1)
    return _Day(_yearless(t, day, month, today), j)


def _month(t: _Text, month: Token) -> int:
    if not 1 <= month.value <= 12:
        raise ImpossibleWhen("month", t.typed(month))
    return month.value


def _full_date(t: _Text, year: Token, month: Token, day: Token) -> date:
    return _valid_date(t, year, _month(t, month), day)


def _valid_date(t: _Text, year: Token, month: int, day: Token) -> date:
    if not MIN_YEAR <= year.value <= MAX_YEAR:
        raise ImpossibleWhen("year", t.typed(year))
    if not 1 <= day.value <= calendar.monthrange(year.value, month)[1]:
        raise ImpossibleWhen("day", t.typed(day))
    return date(year.value, month, day.value)


def _yearless(t: _Text, day: Token, month: int, today: date) -> date:
    """This year's day, or next year's once it is behind us; 29 Feb must exist in the year it lands in."""
    year = today.year if (month, day.value) >= (today.month, today.day) else today.year + 1
    if year > MAX_YEAR:
        raise ImpossibleWhen("year", str(year))
    if not 1 <= day.value <= calendar.monthrange(year, month)[1]:
        raise ImpossibleWhen("day", t.typed(day))
    return date(year, month, day.value)


# --- whole phrases --------------------------------------------------------------------------------


def _at(day: date, at: time, zone: ZoneInfo) -> datetime:
    try:
        return _normalise(datetime.combine(day, at).replace(tzinfo=zone))
    except (OverflowError, ValueError):
        raise ImpossibleWhen("year", str(day.year)) from None


def _in_part(part: time, clock: _Clock, text: str) -> time:
    """A time said with a part of the day: "this evening at 8" is 20:00, "tomorrow morning at 9" 09:00.
    A time outside that part ("afternoon at 11", "evening at 12", "morning at 3 pm") is refused, not
    moved into it."""
    low, high = (5, 12) if part.hour < 12 else (12, 18) if part.hour < 17 else (17, 24)
    candidates = [clock.at]
    if clock.plain_hour:
        candidates.append(clock.at.replace(hour=clock.at.hour + 12))
    for candidate in candidates:
        if low <= candidate.hour < high:
            return candidate
    raise WhenError(text)


def _moment(day: _Day, clock: _Clock | None, zone: ZoneInfo, now: datetime, text: str = "") -> datetime:
    if clock is None:
        return _at(day.day, day.part or DEFAULT_TIME, zone)
    at = clock.at if day.part is None else _in_part(day.part, clock, text)
    if day.today is not None and _at(day.today, at, zone) > now:
        return _at(day.today, at, zone)
    return _at(day.day, at, zone)


def _comma(t: _Text, i: int) -> int:
    """Where a time may start after a date: past a comma, or the "T" of 2026-12-01T14:30."""
    if t.mark(i, ","):
        return i + 1
    if 0 <= i < len(t.toks) and t.toks[i].norm == "t" and t.glued(i) and t.glued(i + 1):
        return i + 1
    return i


def _date_first(t: _Text, zone: ZoneInfo, now: datetime) -> tuple[datetime, int] | None:
    """ "tomorrow", "next monday 14:00", "24/12, 9h", "in 2 days at 8"."""
    day = _date(t, 0, now.date())
    if day is None:
        return None
    clock = _clock(t, _comma(t, day.end))
    if clock is None or not t.at_boundary(clock.end):
        return _moment(day, None, zone, now), day.end
    return _moment(day, clock, zone, now, t.text), clock.end


def _time_first(t: _Text, zone: ZoneInfo, now: datetime) -> tuple[datetime, int] | None:
    """ "9:00" (the next one), "at 9 on monday", "um 9 Uhr morgen"."""
    clock = _clock(t, 0)
    if clock is None:
        return None
    day = _date(t, _comma(t, clock.end), now.date())
    if day is not None and t.at_boundary(day.end):
        return _moment(day, clock, zone, now, t.text), day.end
    today = _at(now.date(), clock.at, zone)
    return today if today > now else _at(now.date() + timedelta(days=1), clock.at, zone), clock.end


def _elapsed(t: _Text, zone: ZoneInfo, now: datetime) -> tuple[datetime, int] | None:
    """ "in 3 hours", "dans 20 minutes": elapsed time from now."""
    found = _in_units(t, 0)
    if found is None or found[1] not in ELAPSED_UNITS:
        return None
    return _later(now, found), found[3]


def _best(t: _Text, zone: ZoneInfo, now: datetime) -> tuple[datetime, int]:
    """The longest reading among the three shapes of phrase.

    A shape that turns out impossible only wins when no other shape reads the text: "24.12." in German
    is a date, although "24.12" alone would be an impossible time.
    """
    found: list[tuple[datetime, int]] = []
    errors: list[WhenError] = []
    for shape in (_date_first, _time_first, _elapsed):
        try:
            reading = shape(t, zone, now)
        except WhenError as error:
            errors.append(error)
            continue
        if reading is not None:
            found.append(reading)
    if found:
        return max(found, key=lambda reading: reading[1])
    raise errors[0] if errors else WhenError(t.text)


def _later(now: datetime, elapsed: tuple[int, str, str, int]) -> datetime:
    """ "in 3 hours" is elapsed time, not wall-clock time: the same across a DST change."""
    count, unit, typed, _ = elapsed
    try:
        return (now.astimezone(_UTC) + timedelta(**{f"{unit}s": count})).astimezone(now.tzinfo)
    except (OverflowError, ValueError):
        raise ImpossibleWhen("year", typed) from None


def read_when(text: str, language: str, zone: ZoneInfo, now: datetime) -> Reading:
    """The longest date/time phrase at the start of `text`; `text[end:]` is the rest as typed.

    Past moments are returned (the caller refuses them); relative phrases prefer the future.
    """
    t = _Text(text, tokens(text), words(language))
    if not t.toks:
        raise WhenError(text)
    moment, end = _best(t, zone, now.astimezone(zone))
    if not t.at_boundary(end):
        raise WhenError(text)  # "today's", "9:00:1x": the phrase would end inside a word
    return Reading(moment, t.end(end))


def parse_when(text: str, language: str, zone: ZoneInfo, now: datetime) -> datetime:
    """The whole text as one date/time phrase, e.g. 'tomorrow 9:00', 'in 2 days', '2026-12-01 14:30'."""
    reading = read_when(text, language, zone, now)
    if text[reading.end :].strip():
        raise WhenError(text)
    return reading.moment


def _normalise(moment: datetime) -> datetime:
    """Resolve wall-clock times that DST skips (02:30 on the spring-forward night) to a real moment.

    With fold=0 zoneinfo reads a skipped time with the offset from before the change, so 02:30 becomes
    03:30 summer time: the reminder comes an hour late on that one night instead of never.
    """
    zone = moment.tzinfo
    if zone is None:
        raise WhenError(str(moment))
    return moment.replace(fold=0).astimezone(_UTC).astimezone(zone)
