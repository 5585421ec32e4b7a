"""Argument parsing shared by the commands. Every failure is a UsageError in the sender's language."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from bot.core.context import Ctx, UsageError
from bot.core.when import WhenError, parse_interval, parse_when
from bot.domain.model import Interval, NeedDomain, Role
from bot.i18n import _, fmt_datetime

MAX_TEXT = 2000
MAX_LABEL = 120

_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_NUMBER = re.compile(r"#?(\d{1,6})")

__all__ = ["UsageError"]


def no_args(ctx: Ctx, rest: str) -> None:
    if rest.strip():
        raise UsageError(_("This command takes no arguments."))


def free_text(text: str, what: str, limit: int = MAX_TEXT) -> str:
    """Plain text from a person: not empty, not too long, no HTML markup (it is shown as typed)."""
    cleaned = " ".join(text.split()) if "\n" not in text else text.strip()
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
    if _MARKUP.search(cleaned):
        raise UsageError(_("Please write the {what} as plain text, without HTML tags.", what=what))
    return cleaned


def number(word: str, what: str) -> int:
    match = _NUMBER.fullmatch(word.strip())
    if not match:
        raise UsageError(_("Expected a {what} number such as 3 or #3, not “{word}”.", what=what, word=word))
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


def when(ctx: Ctx, text: str) -> datetime:
    """A future moment in the sender's language and zone."""
    try:
        moment = parse_when(text, ctx.language, ctx.zone, ctx.now)
    except WhenError:
        raise UsageError(
            _(
                "I could not read “{text}” as a date or time. Try “tomorrow 9:00”, “in 2 days”, "
                "“next monday” or “2026-12-01 14:30”.",
                text=text,
            )
        ) from None
    if moment <= ctx.now:
        raise UsageError(
            _("{when} is in the past; please give a future date or time.", when=fmt_datetime(moment))
        )
    return moment


def interval(ctx: Ctx, text: str) -> Interval:
    try:
        return parse_interval(text, ctx.language)
    except WhenError:
        raise UsageError(
            _(
                "I could not read “{text}” as an interval. Try “2 weeks”, “month”, “3 months” or "
                "“monday 9:00”.",
                text=text,
            )
        ) from None


def split_keywords(text: str, keywords: Sequence[str]) -> tuple[str, dict[str, str]]:
    """'call GP owner bob due tomorrow' -> ('call GP', {'owner': 'bob', 'due': 'tomorrow'})."""
    words = text.split()
    head: list[str] = []
    found: dict[str, list[str]] = {}
    current: list[str] = head
    for word in words:
        key = word.lower()
        if key in keywords and (current is not head or head):
            if key in found:
                raise UsageError(_("“{keyword}” is given twice.", keyword=key))
            found[key] = []
            current = found[key]
        else:
            current.append(word)
    for key, value in found.items():
        if not value:
            raise UsageError(_("“{keyword}” needs a value after it.", keyword=key))
    return " ".join(head), {k: " ".join(v) for k, v in found.items()}


def longest_when_prefix(ctx: Ctx, words: list[str]) -> tuple[datetime, list[str]]:
    """Split '<when> <text>' where the date phrase has no delimiter: the longest prefix that is a date."""
    for size in range(min(len(words) - 1, 7), 0, -1):
        try:
            moment = parse_when(" ".join(words[:size]), ctx.language, ctx.zone, ctx.now)
        except WhenError:
            continue
        if moment <= ctx.now:
            raise UsageError(
                _("{when} is in the past; please give a future date or time.", when=fmt_datetime(moment))
            )
        return moment, words[size:]
    raise UsageError(
        _(
            "I could not find a date or time at the start of “{text}”. Try “tomorrow 9:00 call the GP”.",
            text=" ".join(words),
        )
    )


def longest_interval_prefix(ctx: Ctx, words: list[str]) -> tuple[Interval, list[str]]:
    for size in range(min(len(words) - 1, 4), 0, -1):
        try:
            return parse_interval(" ".join(words[:size]), ctx.language), words[size:]
        except WhenError:
            continue
    raise UsageError(
        _(
            "I could not find an interval at the start of “{text}”. Try “every monday 9:00 weigh-in”.",
            text=" ".join(words),
        )
    )
