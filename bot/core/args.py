"""Reading the values people type: texts, numbers, users, roles, dates. Every failure is a UsageError in
the sender's language; nothing is reinterpreted. Commands and dialogs share these."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from bot.core.context import Ctx, UsageError
from bot.core.recurrence import IntervalReading, read_interval
from bot.core.when import ImpossibleWhen, Reading, WhenError, read_when
from bot.domain.model import Interval, NeedDomain, Role
from bot.i18n import _, fmt_datetime

MAX_TEXT = 2000
MAX_LABEL = 120
HORIZON = timedelta(days=100 * 365)

_NUMBER = re.compile(r"#?([0-9]{1,6})")

__all__ = ["UsageError"]


def free_text(text: str, what: str, limit: int = MAX_TEXT) -> str:
    """Plain text from a person, kept as typed (runs of spaces on one line folded): not empty, not too long.

    `<`, `>` and markup are ordinary characters here; each adapter escapes what it renders. Invisible
    characters that could make a line display reversed are refused earlier, for the whole message.
    """
    cleaned = " ".join(text.split()) if "\n" not in text else text.strip()
    if not any(unicodedata.category(c)[0] in "LNPS" for c in cleaned):  # nothing anyone could read
        cleaned = ""
    if not cleaned:
        raise UsageError(_("The {what} is missing.", what=what))
    if len(cleaned) > limit:
        raise UsageError(
            _(
                "The {what} is too long ({length} characters; at most {limit}).",
                what=what,
                length=len(cleaned),
                limit=limit,
            )
        )
    return cleaned


def number(word: str, what: str) -> int:
    match = _NUMBER.fullmatch(word.strip())
    if not match:
        raise UsageError(_("Expected a number such as 3 or #3 ({what}), not “{word}”.", what=what, word=word))
    return int(match.group(1))


def handle(ctx: Ctx, word: str) -> str:
    word = word.strip()
    if not ctx.net.user_id_pattern.fullmatch(word):
        raise UsageError(
            _(
                "“{word}” is not a user id; expected something like {example}.",
                word=word,
                example=ctx.net.example_user,
            )
        )
    return word


def role(word: str) -> Role:
    try:
        return Role(word.strip().lower())
    except ValueError:
        raise UsageError(
            _(
                "Unknown role “{word}”; expected one of: {roles}.",
                word=word,
                roles=", ".join(r.value for r in Role),
            )
        ) from None


def domain(word: str) -> NeedDomain:
    try:
        return NeedDomain(word.strip().lower())
    except ValueError:
        raise UsageError(
            _(
                "Unknown domain “{word}”; expected one of: {domains}.",
                word=word,
                domains=", ".join(d.value for d in NeedDomain),
            )
        ) from None


def _impossible(error: ImpossibleWhen) -> UsageError:
    problems = {
        "day": _("“{value}” is not a day of that month; nothing was changed."),
        "month": _("“{value}” is not a month (1 to 12); nothing was changed."),
        "hour": _("“{value}” is not an hour (0 to 23); nothing was changed."),
        "minute": _("“{value}” is not a minute (0 to 59); nothing was changed."),
        "year": _("I cannot take the year “{value}”; give a year from now on, with four digits."),
    }
    template = problems.get(error.problem, _("“{value}” is not a possible date or time."))
    return UsageError(template.format(value=error.value))


def _future(ctx: Ctx, moment: datetime) -> datetime:
    if moment <= ctx.now:
        raise UsageError(
            _("{when} is in the past; please give a future date or time.", when=fmt_datetime(moment))
        )
    if moment > ctx.now + HORIZON:
        # Nothing in a care plan is due a century ahead; such a date is a typing slip (and could not be
        # shown in every time zone near the calendar's end).
        raise UsageError(_("{year} is too far ahead; give a date within {n} years.", year=moment.year, n=100))
    return moment


def when_prefix(ctx: Ctx, text: str) -> Reading:
    """The date phrase at the start of `text` (a future moment) and where it ends; the rest is untouched."""
    try:
        reading = read_when(text, ctx.language, ctx.zone, ctx.now)
    except ImpossibleWhen as error:
        raise _impossible(error) from None
    except WhenError:
        raise UsageError(
            _(
                "I could not find a date or time at the start of “{text}”. Try “tomorrow 9:00”, "
                "“in 2 days”, “next monday” or “2026-12-01 14:30”.",
                text=text.strip(),
            )
        ) from None
    _future(ctx, reading.moment)
    return reading


def when(ctx: Ctx, text: str) -> datetime:
    """A future moment: the whole text must be a date phrase."""
    reading = when_prefix(ctx, text)
    if text[reading.end :].strip():
        raise UsageError(
            _(
                "I could not read “{text}” as a date or time. Try “tomorrow 9:00”, “in 2 days”, "
                "“next monday” or “2026-12-01 14:30”.",
                text=text.strip(),
            )
        )
    return reading.moment


def interval_prefix(ctx: Ctx, text: str) -> IntervalReading:
    try:
        return read_interval(text, ctx.language)
    except WhenError:
        raise UsageError(
            _(
                "I could not read “{text}” as an interval. Try “2 weeks”, “month”, “3 months” or "
                "“monday 9:00”.",
                text=text.strip(),
            )
        ) from None


def interval(ctx: Ctx, text: str) -> Interval:
    reading = interval_prefix(ctx, text)
    if text[reading.end :].strip():
        raise UsageError(
            _(
                "I could not read “{text}” as an interval. Try “2 weeks”, “month”, “3 months” or "
                "“monday 9:00”.",
                text=text.strip(),
            )
        )
    return reading.interval
