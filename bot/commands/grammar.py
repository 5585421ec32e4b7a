"""Typed command arguments: declared once, read by one grammar, and shown as the usage line.

A command declares its parameters in order: positional ones (a number, a user, a date phrase, free text...)
and options introduced by a keyword (`owner <user>`, `due <when>`). Free text keeps every word as typed:
a keyword starts an option only where the rest of the line reads as options from there to the end, so
"Contact the owner of the flat" is text, while "Home help owner bob due friday" has two options. When a
keyword is followed by something that is not a valid value and nothing else follows (`due someday`), the
grammar refuses rather than guessing; putting the text in quotes ("…", “…”, «…», „…“) always keeps it whole.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from bot.core import args
from bot.core.context import Ctx, UsageError
from bot.domain.model import Interval
from bot.i18n import _

T = TypeVar("T")

_WORD = re.compile(r"\S+")
_REF = re.compile(r"C-[0-9]{4}-[0-9]{4,6}")
QUOTES = {'"': '"', "“": "”", "«": "»", "„": "“", "”": "”"}


class Kind(enum.Enum):
    NUMBER = "number"  # 3 or #3
    USER = "user"  # a network user id
    ROLE = "role"
    DOMAIN = "domain"
    CHOICE = "choice"  # one of the declared words
    WORD = "word"  # one word the handler reads itself
    REF = "ref"  # a case reference, C-2026-0001
    TEXT = "text"  # free text, kept as typed
    WHEN = "when"  # a future moment
    INTERVAL = "interval"  # a calendar interval (a leading "every" is allowed)
    SCHEDULE = "schedule"  # a future moment, or a recurrence introduced by every / tous les / jeden ...


_ONE_WORD = frozenset({Kind.NUMBER, Kind.USER, Kind.ROLE, Kind.DOMAIN, Kind.CHOICE, Kind.WORD, Kind.REF})


@dataclass(frozen=True)
class Param:
    """One argument. `name` is the placeholder shown in the usage line and `what` the noun used in
    messages about it (both marked for translation with N_)."""

    name: str
    kind: Kind
    what: str = ""
    optional: bool = False
    keyword: str | None = None
    choices: tuple[str, ...] = ()
    # Written with a leading '#' (`#<n>`); an optional one is recognised by that '#' alone.
    hashed: bool = False
    limit: int = args.MAX_TEXT
    # Where the handler finds the value: `key`, else the option's keyword, else the placeholder.
    key: str = ""

    @property
    def slot(self) -> str:
        return self.key or self.keyword or self.name

    def usage(self) -> str:
        body = "|".join(self.choices) if self.choices else f"<{_(self.name)}>"
        if self.hashed:
            body = "#" + body
        if self.keyword:
            body = f"{self.keyword} {body}"
        return f"[{body}]" if self.optional else body


def usage(params: Sequence[Param]) -> str:
    return " ".join(p.usage() for p in params)


class Values:
    """What the grammar read, by parameter name; absent optional parameters are None."""

    def __init__(self, data: dict[str, object]) -> None:
        self._data = data

    def opt(self, name: str, cls: type[T]) -> T | None:
        value = self._data.get(name)
        if value is None:
            return None
        if not isinstance(value, cls):
            raise TypeError(f"argument {name!r} is {type(value).__name__}, not {cls.__name__}")
        return value

    def of(self, name: str, cls: type[T]) -> T:
        value = self.opt(name, cls)
        if value is None:
            raise KeyError(f"argument {name!r} was not read")
        return value

    def has(self, name: str) -> bool:
        return self._data.get(name) is not None

    def __repr__(self) -> str:
        return f"Values({self._data!r})"


class _Prose(Exception):
    """The words from here are ordinary text, not options."""


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _word_at(text: str, pos: int) -> tuple[str, int]:
    match = _WORD.match(text, pos)
    if match is None:
        return "", pos
    return match.group(0), match.end()


def _missing(param: Param) -> UsageError:
    if param.kind is Kind.TEXT:
        return UsageError(_("The {what} is missing.", what=_(param.what or param.name)))
    return UsageError(_("Give the {what}.", what=_(param.what or param.name)))


class Grammar:
    def __init__(self, params: Sequence[Param]) -> None:
        self.params = tuple(params)
        self.positional = tuple(p for p in params if p.keyword is None)
        self.options = {p.keyword: p for p in params if p.keyword is not None}

    # values ----------------------------------------------------------------------------------------
    def _one_word(self, ctx: Ctx, param: Param, word: str) -> object:
        what = _(param.what or param.name)
        if param.kind is Kind.NUMBER:
            return args.number(word, what)
        if param.kind is Kind.USER:
            return args.handle(ctx, word)
        if param.kind is Kind.ROLE:
            return args.role(word)
        if param.kind is Kind.DOMAIN:
            return args.domain(word)
        if param.kind is Kind.CHOICE:
            if word.lower() not in param.choices:
                raise UsageError(
                    _("“{word}”: expected one of {choices}.", word=word, choices=", ".join(param.choices))
                )
            return word.lower()
        if param.kind is Kind.REF:
            if not _REF.fullmatch(word.upper()):
                raise UsageError(
                    _("“{word}” is not a case reference; expected something like C-2026-0001.", word=word)
                )
            return word.upper()
        return word

    def _value(self, ctx: Ctx, param: Param, text: str, pos: int, end_limit: int) -> tuple[object, int]:
        """Read one value at `pos`; returns it and where it ends. Raises UsageError."""
        if param.kind in _ONE_WORD:
            word, end = _word_at(text, pos)
            return self._one_word(ctx, param, word), end
        if param.kind is Kind.WHEN:
            reading = args.when_prefix(ctx, text[pos:end_limit])
            return reading.moment, pos + reading.end
        if param.kind is Kind.INTERVAL:
            interval = args.interval_prefix(ctx, text[pos:end_limit])
            return interval.interval, pos + interval.end
        if param.kind is Kind.SCHEDULE:
            return self._schedule(ctx, text[pos:end_limit], pos)
        value = args.free_text(text[pos:end_limit], _(param.what or param.name), param.limit)
        return value, end_limit

    def _schedule(self, ctx: Ctx, text: str, offset: int) -> tuple[datetime | Interval, int]:
        try:
            recurrence = args.interval_prefix(ctx, text)
        except UsageError:
            recurrence = None
        if recurrence is not None and recurrence.marked:
            return recurrence.interval, offset + recurrence.end
        reading = args.when_prefix(ctx, text)
        return reading.moment, offset + reading.end

    def _reads(self, ctx: Ctx, param: Param, text: str, pos: int) -> bool:
        try:
            self._one_word(ctx, param, _word_at(text, pos)[0])
        except UsageError:
            return False
        return True

    # options ---------------------------------------------------------------------------------------
    def _keyword_positions(self, text: str, start: int) -> list[int]:
        return [m.start() for m in _WORD.finditer(text, start) if m.group(0).lower() in self.options]

    def _region_end(self, text: str, param: Param, pos: int) -> int:
        """Where a value that did not read would end: its word, or up to the next keyword."""
        if param.kind in _ONE_WORD:
            return _word_at(text, pos)[1]
        following = self._keyword_positions(text, pos)
        return following[0] if following else len(text)

    def _tail_is_options(self, ctx: Ctx, text: str, pos: int) -> bool:
        pos = _skip(text, pos)
        if pos == len(text):
            return True
        try:
            self._read_options(ctx, text, pos, strict=False)
        except (_Prose, UsageError):
            return False
        return True

    def _read_options(self, ctx: Ctx, text: str, pos: int, strict: bool) -> dict[str, object]:
        """Options from `pos` to the end. Not strict: raises _Prose where the words are ordinary text,
        and UsageError only where an option was clearly meant (its bad value ends the line or is
        followed by other options)."""
        values: dict[str, object] = {}
        while True:
            pos = _skip(text, pos)
            if pos == len(text):
                return values
            word, after = _word_at(text, pos)
            param = self.options.get(word.lower())
            if param is None:
                if strict:
                    raise UsageError(_("I did not expect “{word}” here.", word=word))
                raise _Prose
            if param.slot in values:
                raise UsageError(_("“{keyword}” is given twice.", keyword=word.lower()))
            start = _skip(text, after)
            if start == len(text):
                if strict:
                    raise UsageError(_("“{keyword}” needs a value after it.", keyword=word.lower()))
                raise _Prose
            end_limit = len(text)
            if param.kind is Kind.TEXT:
                end_limit = self._text_option_end(ctx, text, start)
            try:
                value, pos = self._value(ctx, param, text, start, end_limit)
            except UsageError as error:
                if strict:
                    raise
                if self._tail_is_options(ctx, text, self._region_end(text, param, start)):
                    hint = _(
                        'If “{keyword}” is part of the text, put the text in quotes: "…".',
                        keyword=word.lower(),
                    )
                    raise UsageError(f"{error}\n{hint}") from None
                raise _Prose from None
            values[param.slot] = value

    def _text_option_end(self, ctx: Ctx, text: str, start: int) -> int:
        for position in self._keyword_positions(text, start + 1):
            if self._tail_is_options(ctx, text, position):
                return position
        return len(text)

    def _text_then_options(self, ctx: Ctx, text: str, pos: int) -> tuple[str, dict[str, object]]:
        """Free text followed by the options, if any. Quoted text is taken whole."""
        if not self.options:
            return text[pos:], {}  # nothing to tell apart: quotes are part of the text
        opening = text[pos] if pos < len(text) else ""
        if opening in QUOTES:
            closing = text.find(QUOTES[opening], pos + 1)
            if closing < 0:
                raise UsageError(_("The quote that starts the text is not closed."))
            try:
                return text[pos + 1 : closing], self._read_options(ctx, text, closing + 1, strict=False)
            except _Prose:
                pass  # words follow the quote: the quote is part of the text
        for position in self._keyword_positions(text, pos):
            try:
                return text[pos:position], self._read_options(ctx, text, position, strict=False)
            except _Prose:
                continue
        return text[pos:], {}

    # the whole line --------------------------------------------------------------------------------
    def parse(self, ctx: Ctx, text: str) -> Values:
        values: dict[str, object] = {}
        pos = 0
        for param in self.positional:
            pos = _skip(text, pos)
            if param.kind is Kind.TEXT:
                raw, options = self._text_then_options(ctx, text, pos)
                if raw.strip() or not param.optional:
                    values[param.slot] = args.free_text(raw, _(param.what or param.name), param.limit)
                values.update(options)
                return self._complete(values)
            if pos == len(text) or (param.optional and param.hashed and not text.startswith("#", pos)):
                if param.optional:
                    continue
                raise _missing(param)
            if param.optional and param.kind in _ONE_WORD and not self._reads(ctx, param, text, pos):
                continue  # an optional word is there only where it reads as one (a case reference...)
            value, pos = self._value(ctx, param, text, pos, len(text))
            values[param.slot] = value
        pos = _skip(text, pos)
        if self.options:
            values.update(self._read_options(ctx, text, pos, strict=True))
        elif pos < len(text):
            if not self.params:
                raise UsageError(_("This command takes no arguments."))
            raise UsageError(_("I did not expect “{word}” here.", word=text[pos:].strip()[:60]))
        return self._complete(values)

    def _complete(self, values: dict[str, object]) -> Values:
        for param in self.options.values():
            if not param.optional and param.slot not in values:
                raise _missing(param)
        return Values(values)
