"""Whatever people type, the date reader answers or refuses with WhenError, and keeps the rest as typed."""

from __future__ import annotations

import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.recurrence import parse_interval, read_interval
from bot.core.when import WhenError, parse_when, read_when

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
LANGUAGES = st.sampled_from(["en", "fr", "de"])
# Derandomized so CI runs the same examples every time; no example database is written.
FAST = settings(
    max_examples=300, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# Any code point but surrogates, with the characters of date phrases made likely so that the reader gets
# past its first token: digits of several scripts, superscripts, separators and words of each language.
PIECES = st.sampled_from(
    [
        "tomorrow", "demain", "morgen", "every", "tous les", "jeden", "alle", "in", "dans", "at", "à", "um",
        "monday", "lundi", "Montag", "Nov", "novembre", "März", "h", "Uhr", "pm", "am", "noon", "minuit",
        "days", "Wochen", "mois", "next", "prochain", "nächsten", "this", "ce", "soir", "evening", "Abend",
        "9", "24", "2026", "0", "13", "25", "60", "99999", "١٢", "３", "²", "½", ":", ".", "/", "-", ",",
        "'", "’", " ", "  ", "\u0301", "\u200f", "T",
    ]
)  # fmt: skip
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"])),
    st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=12).map("".join),
    st.lists(PIECES, max_size=8).map(" ".join),
)


@FAST
@given(TEXT, LANGUAGES)
def test_any_text_is_read_or_refused(text: str, language: str) -> None:
    try:
        reading = read_when(text, language, PARIS, NOW)
    except WhenError:
        pass
    else:
        assert 0 < reading.end <= len(text)
        assert text.endswith(text[reading.end :])
        assert reading.moment.tzinfo is not None and reading.moment.utcoffset() is not None
    try:
        moment = parse_when(text, language, PARIS, NOW)
    except WhenError:
        pass
    else:
        assert moment.tzinfo is not None
    try:
        interval = read_interval(text, language)
    except WhenError:
        pass
    else:
        assert 0 < interval.end <= len(text)
        assert 1 <= interval.interval.count <= 366
    with contextlib.suppress(WhenError):
        parse_interval(text, language)


KNOWN = {
    "en": ["tomorrow 9:00", "monday", "next monday 14:00", "in 2 days", "24 Nov", "2026-12-24 14:30", "noon"],
    "fr": [
        "demain 9h",
        "lundi prochain à 14h30",
        "après-demain",
        "24 novembre 2026",
        "dans 3 mois",
        "ce soir",
    ],
    "de": [
        "morgen um 9 Uhr",
        "übermorgen",
        "nächsten Montag",
        "24. November",
        "24.12.2026 14:30",
        "heute Abend",
    ],
}
# Texts that begin with something no date phrase can continue into, followed by anything at all.
HEADS = st.sampled_from(["2 pills", "10 boxes", "night check", "today's dose", "1st dose", "☐", "x", "call"])
REST = st.tuples(HEADS, st.text(st.characters(exclude_categories=["Cs"]), max_size=30)).map("".join)


@FAST
@given(st.sampled_from([(lang, phrase) for lang, phrases in KNOWN.items() for phrase in phrases]), REST)
def test_the_rest_after_a_known_phrase_is_kept_exactly(known: tuple[str, str], rest: str) -> None:
    language, phrase = known
    text = f"{phrase} {rest}"
    reading = read_when(text, language, PARIS, NOW)
    assert text[reading.end :].lstrip() == rest
    assert reading.moment == parse_when(phrase, language, PARIS, NOW)


@FAST
@given(st.sampled_from(["every monday 9:00", "tous les lundis à 9h", "alle 2 Wochen"]), REST)
def test_the_rest_after_an_interval_is_kept_exactly(phrase: str, rest: str) -> None:
    language = {"e": "en", "t": "fr", "a": "de"}[phrase[0]]
    text = f"{phrase} {rest}"
    reading = read_interval(text, language)
    assert text[reading.end :].lstrip() == rest
    assert reading.marked
