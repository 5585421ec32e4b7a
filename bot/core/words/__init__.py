"""The words of the date reader: a tokenizer that keeps offsets, and one data file per language.

Everything a language contributes (today/tomorrow, units, "at"/"um"/"à", recurrence words...) lives in
`<language>.toml` next to this module; month and weekday names come from CLDR through Babel. So adding a
language is adding a data file, and the grammar in `bot.core.when` never names a word of any language.

Words are compared without case and without accents ("apres-demain", "ubermorgen" and "Übermorgen" are
the same word), but digits are kept as typed: "²" is not a digit here, "٣" and "３" are.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from babel import Locale

from bot.domain.model import Unit

Phrase = tuple[str, ...]
Kind = Literal["number", "word", "mark"]

# A number is a run of decimal digits of one script or another; a word is letters with their combining
# accents; anything else that is not a space is a one-character mark (":", "/", "'", "²"...).
_TOKEN = re.compile(r"(?P<number>\d+)|(?P<word>(?:[^\W\d_]|[\u0300-\u036f])+)|(?P<mark>\S)")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_FALLBACK = "en"
# Longer numbers are never a day, an hour or a count; they are not converted (int() of a huge string is slow).
_MAX_DIGITS = 9
HUGE = 10**_MAX_DIGITS
# A date phrase is a handful of words; reading more of a long message only costs time.
MAX_TOKENS = 40

# Units of elapsed time ("in 3 hours" keeps the clock time); the others are calendar units.
ELAPSED_UNITS = frozenset({"second", "minute", "hour"})


@dataclass(frozen=True)
class Token:
    """One word, number or mark, with where it sits in the text as typed."""

    kind: Kind
    norm: str
    start: int
    end: int

    @property
    def value(self) -> int:
        """The number a digit token stands for; HUGE for one too long to be a date's part."""
        return int(self.norm) if len(self.norm) <= _MAX_DIGITS else HUGE

    @property
    def too_long(self) -> bool:
        """Too many digits to be a day, an hour or a count: refused, never rounded to something else."""
        return len(self.norm) > _MAX_DIGITS


def normalise(word: str) -> str:
    """Case- and accent-free form, so "Übermorgen", "übermorgen" and "ubermorgen" compare equal."""
    folded = unicodedata.normalize("NFD", word.casefold().replace("’", "'").replace("‘", "'"))
    return unicodedata.normalize("NFC", "".join(c for c in folded if not unicodedata.combining(c)))


def tokens(text: str, limit: int = MAX_TOKENS) -> tuple[Token, ...]:
    """The first `limit` tokens of `text`, each with its offsets in `text`."""
    found: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind: Kind = "number" if match.group("number") else "word" if match.group("word") else "mark"
        norm = match.group() if kind == "number" else normalise(match.group())
        found.append(Token(kind, norm, match.start(), match.end()))
        if len(found) >= limit:
            break
    return tuple(found)


def phrase(text: str) -> Phrase:
    """A vocabulary entry as the tokens it must match."""
    return tuple(token.norm for token in tokens(text, limit=1000))


@dataclass(frozen=True)
class Words:
    """One language's vocabulary, as phrases (token tuples) mapped to what they mean."""

    language: str
    day_first: bool
    month_name_first: bool
    date_prepositions: frozenset[Phrase]
    this: frozenset[Phrase]
    next_before: frozenset[Phrase]
    next_after: frozenset[Phrase]
    within: frozenset[Phrase]
    time_prepositions: frozenset[Phrase]
    hour_suffixes: frozenset[Phrase]
    time_separators: frozenset[str]
    am: frozenset[Phrase]
    pm: frozenset[Phrase]
    ordinal_suffixes: frozenset[Phrase]
    day_month_joiners: frozenset[Phrase]
    marks: frozenset[Phrase]
    # "and" in "every monday and thursday": a second day the reader does not take, so it refuses.
    conjunctions: frozenset[Phrase]
    other: frozenset[Phrase]
    days: Mapping[Phrase, int]
    times: Mapping[Phrase, time]
    parts: Mapping[Phrase, time]
    tonight: Mapping[Phrase, time]
    units: Mapping[Phrase, str]
    numbers: Mapping[Phrase, int]
    adverbs: Mapping[Phrase, tuple[int, Unit]]
    months: Mapping[Phrase, int]
    weekdays: Mapping[Phrase, int]
    plural_weekdays: Mapping[Phrase, int]


@lru_cache(maxsize=64)
def supported(language: str) -> str:
    """The language whose data file is used: the base of a tag ("fr-CA" -> "fr"), English if none."""
    base = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
    if _LANGUAGE.fullmatch(base) and resources.files(__name__).joinpath(f"{base}.toml").is_file():
        return base
    return _FALLBACK


def words(language: str) -> Words:
    """The vocabulary of `language` (see `supported`), read from its data file once."""
    return _load(supported(language))


@lru_cache(maxsize=16)
def _load(code: str) -> Words:
    raw = tomllib.loads(resources.files(__name__).joinpath(f"{code}.toml").read_text("utf-8"))
    return _build(code, raw)


def _build(code: str, raw: dict[str, Any]) -> Words:
    weekdays = _cldr_names(code, "days", raw.get("weekdays", {}))
    suffixes = raw.get("weekday_plural_suffixes", [])
    plural = {(*name[:-1], name[-1] + s): day for name, day in weekdays.items() for s in suffixes}
    return Words(
        language=code,
        day_first=raw["date_order"] == "dmy",
        month_name_first=bool(raw.get("month_name_first", False)),
        date_prepositions=_set(raw, "date_prepositions"),
        this=_set(raw, "this"),
        next_before=_set(raw, "next_before"),
        next_after=_set(raw, "next_after"),
        within=_set(raw, "in"),
        time_prepositions=_set(raw, "time_prepositions"),
        hour_suffixes=_set(raw, "hour_suffixes"),
        time_separators=frozenset(raw.get("time_separators", [":"])),
        am=_set(raw, "am"),
        pm=_set(raw, "pm"),
        ordinal_suffixes=_set(raw, "ordinal_suffixes"),
        day_month_joiners=_set(raw, "day_month_joiners"),
        marks=_set(raw, "recurrence_marks"),
        conjunctions=_set(raw, "conjunctions"),
        other=_set(raw, "other"),
        days={phrase(k): int(v) for k, v in raw.get("days", {}).items()},
        times={phrase(k): time.fromisoformat(v) for k, v in raw.get("times", {}).items()},
        parts={phrase(k): time.fromisoformat(v) for k, v in raw.get("parts", {}).items()},
        tonight={phrase(k): time.fromisoformat(v) for k, v in raw.get("tonight", {}).items()},
        units={phrase(w): unit for unit, ws in raw.get("units", {}).items() for w in ws},
        numbers={phrase(k): int(v) for k, v in raw.get("numbers", {}).items()},
        adverbs={phrase(k): _count_unit(v) for k, v in raw.get("adverbs", {}).items()},
        months=_cldr_names(code, "months", raw.get("months", {})),
        weekdays=weekdays,
        plural_weekdays={k: v for k, v in plural.items() if k not in weekdays},
    )


def _set(raw: dict[str, Any], key: str) -> frozenset[Phrase]:
    return frozenset(phrase(entry) for entry in raw.get(key, []))


def _count_unit(value: str) -> tuple[int, Unit]:
    """'2 week' -> (2, Unit.WEEK): how a one-word recurrence ("fortnightly") is written in the data."""
    count, unit = value.split()
    return int(count), Unit(unit)


def _cldr_names(code: str, kind: Literal["months", "days"], extra: Mapping[str, int]) -> dict[Phrase, int]:
    """Wide and abbreviated names from CLDR, plus the data file's extras ("sept").

    Abbreviations shorter than three letters ("Mo.", "Di.") are left out: at the start of a message they
    are more often a word than a day.
    """
    locale = Locale.parse(code)
    table = locale.months if kind == "months" else locale.days
    names: dict[Phrase, int] = {}
    for context in ("format", "stand-alone"):
        for width in ("wide", "abbreviated"):
            for index, name in table[context][width].items():
                key = phrase(str(name).rstrip("."))
                if len(key) == 1 and len(key[0]) >= 3:
                    names[key] = int(index)
    names.update({phrase(k): int(v) for k, v in extra.items()})
    return names


def longest(table: Mapping[Phrase, Any] | frozenset[Phrase], toks: tuple[Token, ...], i: int) -> int:
    """The index after the longest entry of `table` that starts at token i, or -1."""
    best = -1
    for entry in table:
        end = i + len(entry)
        if end <= len(toks) and all(toks[i + k].norm == w for k, w in enumerate(entry)):
            best = max(best, end)
    return best


def entry_at(toks: tuple[Token, ...], i: int, end: int) -> Phrase:
    return tuple(t.norm for t in toks[i:end])


def languages() -> Iterator[str]:
    """The languages that have a data file."""
    for item in resources.files(__name__).iterdir():
        if item.name.endswith(".toml"):
            yield item.name.removesuffix(".toml")
