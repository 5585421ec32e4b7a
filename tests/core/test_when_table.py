"""The date reader, phrase by phrase: the moment it reads and the text it leaves exactly as typed.

Every row is read on Monday 23 November 2026 at 10:00 in Paris unless it says otherwise.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.recurrence import first_occurrence, parse_interval, read_interval
from bot.core.when import ImpossibleWhen, WhenError, parse_when, read_when
from bot.core.words import languages, words
from bot.domain.model import Interval, Unit

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)  # a Monday


def paris(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


Row = tuple[str, str, tuple[int, int, int, int, int], str]

ENGLISH: list[Row] = [
    ("en", "tomorrow 9:00 2 pills of aspirin", (2026, 11, 24, 9, 0), "2 pills of aspirin"),
    ("en", "monday 10 boxes", (2026, 11, 30, 9, 0), "10 boxes"),
    ("en", "friday may call back", (2026, 11, 27, 9, 0), "may call back"),
    ("en", "tomorrow night check", (2026, 11, 24, 9, 0), "night check"),
    ("en", "tomorrow today's dose", (2026, 11, 24, 9, 0), "today's dose"),
    ("en", "tomorrow 1st dose", (2026, 11, 24, 9, 0), "1st dose"),
    ("en", "tomorrow 2 pills", (2026, 11, 24, 9, 0), "2 pills"),
    ("en", "tomorrow 9 pills", (2026, 11, 24, 9, 0), "9 pills"),
    ("en", "tomorrow", (2026, 11, 24, 9, 0), ""),
    ("en", "today", (2026, 11, 23, 9, 0), ""),
    ("en", "after tomorrow", (2026, 11, 25, 9, 0), ""),
    ("en", "the day after tomorrow", (2026, 11, 25, 9, 0), ""),
    ("en", "tomorrow at 9", (2026, 11, 24, 9, 0), ""),
    ("en", "tomorrow at 9 call GP", (2026, 11, 24, 9, 0), "call GP"),
    ("en", "tomorrow at home", (2026, 11, 24, 9, 0), "at home"),
    ("en", "friday 3pm", (2026, 11, 27, 15, 0), ""),
    ("en", "friday 3 pm call", (2026, 11, 27, 15, 0), "call"),
    ("en", "friday 12am", (2026, 11, 27, 0, 0), ""),
    ("en", "friday 12pm", (2026, 11, 27, 12, 0), ""),
    ("en", "tomorrow 9:30am", (2026, 11, 24, 9, 30), ""),
    ("en", "tomorrow 4:15 p.m. physio", (2026, 11, 24, 16, 15), "physio"),
    ("en", "tomorrow 9 o'clock", (2026, 11, 24, 9, 0), ""),
    ("en", "2026-12-01 14:30", (2026, 12, 1, 14, 30), ""),
    ("en", "2026-12-01", (2026, 12, 1, 9, 0), ""),
    ("en", "2026-12-01T14:30 x", (2026, 12, 1, 14, 30), "x"),
    ("en", "2026-12-24 may be late", (2026, 12, 24, 9, 0), "may be late"),
    ("en", "1/12/2026", (2026, 12, 1, 9, 0), ""),
    ("en", "01.12.2026", (2026, 12, 1, 9, 0), ""),
    ("en", "24/12", (2026, 12, 24, 9, 0), ""),
    ("en", "24/12 14:30 party", (2026, 12, 24, 14, 30), "party"),
    ("en", "13/12", (2026, 12, 13, 9, 0), ""),
    ("en", "23/11 18:00", (2026, 11, 23, 18, 0), ""),
    ("en", "22/11", (2027, 11, 22, 9, 0), ""),
    ("en", "24 Nov", (2026, 11, 24, 9, 0), ""),
    ("en", "Nov 24", (2026, 11, 24, 9, 0), ""),
    ("en", "Nov 24, 2027", (2027, 11, 24, 9, 0), ""),
    ("en", "Nov 24, 2 pills", (2026, 11, 24, 9, 0), ", 2 pills"),
    ("en", "24 Nov 2 pills", (2026, 11, 24, 9, 0), "2 pills"),
    ("en", "24 November 2027 10:15", (2027, 11, 24, 10, 15), ""),
    ("en", "24th of November", (2026, 11, 24, 9, 0), ""),
    ("en", "on 24 Nov call", (2026, 11, 24, 9, 0), "call"),
    ("en", "1 Jan", (2027, 1, 1, 9, 0), ""),
    ("en", "sept 3", (2027, 9, 3, 9, 0), ""),
    ("en", "dec 24 at 6pm", (2026, 12, 24, 18, 0), ""),
    ("en", "Tuesday 24 Nov 8:00", (2026, 11, 24, 8, 0), ""),
    ("en", "next monday", (2026, 11, 30, 9, 0), ""),
    ("en", "next monday 14:00", (2026, 11, 30, 14, 0), ""),
    ("en", "monday 14:00", (2026, 11, 23, 14, 0), ""),
    ("en", "monday 8:00", (2026, 11, 30, 8, 0), ""),
    ("en", "monday", (2026, 11, 30, 9, 0), ""),
    ("en", "this friday", (2026, 11, 27, 9, 0), ""),
    ("en", "on friday", (2026, 11, 27, 9, 0), ""),
    ("en", "next friday 10 boxes", (2026, 11, 27, 9, 0), "10 boxes"),
    ("en", "tuesday", (2026, 11, 24, 9, 0), ""),
    ("en", "sunday", (2026, 11, 29, 9, 0), ""),
    ("en", "in 2 days", (2026, 11, 25, 9, 0), ""),
    ("en", "in 2 days at 14:00", (2026, 11, 25, 14, 0), ""),
    ("en", "in 2 weeks 2 pills", (2026, 12, 7, 9, 0), "2 pills"),
    ("en", "in a week", (2026, 11, 30, 9, 0), ""),
    ("en", "in 1 month", (2026, 12, 23, 9, 0), ""),
    ("en", "in 3 months", (2027, 2, 23, 9, 0), ""),
    ("en", "in 1 year", (2027, 11, 23, 9, 0), ""),
    ("en", "next month", (2026, 12, 23, 9, 0), ""),
    ("en", "next week", (2026, 11, 30, 9, 0), ""),
    ("en", "next year", (2027, 11, 23, 9, 0), ""),
    ("en", "in 3 hours", (2026, 11, 23, 13, 0), ""),
    ("en", "in 20 minutes call", (2026, 11, 23, 10, 20), "call"),
    ("en", "in an hour", (2026, 11, 23, 11, 0), ""),
    ("en", "8:00", (2026, 11, 24, 8, 0), ""),
    ("en", "14:00", (2026, 11, 23, 14, 0), ""),
    ("en", "at 9", (2026, 11, 24, 9, 0), ""),
    ("en", "at 11 coffee", (2026, 11, 23, 11, 0), "coffee"),
    ("en", "9:00 tomorrow", (2026, 11, 24, 9, 0), ""),
    ("en", "at 3pm on friday", (2026, 11, 27, 15, 0), ""),
    ("en", "midnight", (2026, 11, 24, 0, 0), ""),
    ("en", "noon", (2026, 11, 23, 12, 0), ""),
    ("en", "tomorrow noon", (2026, 11, 24, 12, 0), ""),
    ("en", "at noon", (2026, 11, 23, 12, 0), ""),
    ("en", "tonight", (2026, 11, 23, 19, 0), ""),
    ("en", "this evening", (2026, 11, 23, 19, 0), ""),
    ("en", "this evening at 8", (2026, 11, 23, 20, 0), ""),
    ("en", "tomorrow evening", (2026, 11, 24, 19, 0), ""),
    ("en", "tomorrow morning", (2026, 11, 24, 8, 0), ""),
    ("en", "tomorrow morning 7:30", (2026, 11, 24, 7, 30), ""),
    ("en", "this afternoon", (2026, 11, 23, 15, 0), ""),
    ("en", "friday evening 8pm", (2026, 11, 27, 20, 0), ""),
    ("en", "tomorrow, 9:00 call", (2026, 11, 24, 9, 0), "call"),
    ("en", "tomorrow: call GP", (2026, 11, 24, 9, 0), ": call GP"),
    ("en", "tomorrow.", (2026, 11, 24, 9, 0), "."),
    ("en", "tomorrow... call", (2026, 11, 24, 9, 0), "... call"),
    ("en", "in ٣ days", (2026, 11, 26, 9, 0), ""),
    ("en", "in ３ days", (2026, 11, 26, 9, 0), ""),
    ("en", "١٢:٠٠ lunch", (2026, 11, 23, 12, 0), "lunch"),
    ("en", "TOMORROW 9:00", (2026, 11, 24, 9, 0), ""),
    ("en", "  tomorrow   9:00   x  y ", (2026, 11, 24, 9, 0), "x  y"),
    ("en", "tomorrow 9:00 BP < normal", (2026, 11, 24, 9, 0), "BP < normal"),
    ("en", "noon today's dose", (2026, 11, 23, 12, 0), "today's dose"),
    ("en", "yesterday", (2026, 11, 22, 9, 0), ""),  # read, so that the caller can say it is past
]

FRENCH: list[Row] = [
    ("fr", "demain 9h", (2026, 11, 24, 9, 0), ""),
    ("fr", "demain 9h30 2 comprimés", (2026, 11, 24, 9, 30), "2 comprimés"),
    ("fr", "demain à 9h", (2026, 11, 24, 9, 0), ""),
    ("fr", "demain à 9 h 30", (2026, 11, 24, 9, 30), ""),
    ("fr", "demain 9 heures", (2026, 11, 24, 9, 0), ""),
    ("fr", "demain 3 boîtes", (2026, 11, 24, 9, 0), "3 boîtes"),
    ("fr", "après-demain", (2026, 11, 25, 9, 0), ""),
    ("fr", "apres demain 10h", (2026, 11, 25, 10, 0), ""),
    ("fr", "aujourd'hui 18h", (2026, 11, 23, 18, 0), ""),
    ("fr", "lundi prochain à 14h30", (2026, 11, 30, 14, 30), ""),
    ("fr", "lundi 10 boîtes", (2026, 11, 30, 9, 0), "10 boîtes"),
    ("fr", "vendredi", (2026, 11, 27, 9, 0), ""),
    ("fr", "le vendredi 27 novembre", (2026, 11, 27, 9, 0), ""),
    ("fr", "ce soir", (2026, 11, 23, 19, 0), ""),
    ("fr", "ce soir à 8h", (2026, 11, 23, 20, 0), ""),
    ("fr", "demain soir", (2026, 11, 24, 19, 0), ""),
    ("fr", "demain matin", (2026, 11, 24, 8, 0), ""),
    ("fr", "cet après-midi", (2026, 11, 23, 15, 0), ""),
    ("fr", "midi", (2026, 11, 23, 12, 0), ""),
    ("fr", "minuit", (2026, 11, 24, 0, 0), ""),
    ("fr", "demain midi", (2026, 11, 24, 12, 0), ""),
    ("fr", "à midi", (2026, 11, 23, 12, 0), ""),
    ("fr", "01/12/2026", (2026, 12, 1, 9, 0), ""),
    ("fr", "1/12", (2026, 12, 1, 9, 0), ""),
    ("fr", "24 novembre 2026", (2026, 11, 24, 9, 0), ""),
    ("fr", "24 novembre 2026 à 14h30 rdv", (2026, 11, 24, 14, 30), "rdv"),
    ("fr", "le 24 novembre", (2026, 11, 24, 9, 0), ""),
    ("fr", "1er décembre", (2026, 12, 1, 9, 0), ""),
    ("fr", "24 nov. à 9h", (2026, 11, 24, 9, 0), ""),
    ("fr", "dans 2 jours", (2026, 11, 25, 9, 0), ""),
    ("fr", "dans une semaine", (2026, 11, 30, 9, 0), ""),
    ("fr", "dans 1 mois", (2026, 12, 23, 9, 0), ""),
    ("fr", "dans 3 mois", (2027, 2, 23, 9, 0), ""),
    ("fr", "dans 3 heures", (2026, 11, 23, 13, 0), ""),
    ("fr", "dans 20 minutes", (2026, 11, 23, 10, 20), ""),
    ("fr", "la semaine prochaine", (2026, 11, 30, 9, 0), ""),
    ("fr", "le mois prochain", (2026, 12, 23, 9, 0), ""),
    ("fr", "l'année prochaine", (2027, 11, 23, 9, 0), ""),
    ("fr", "mardi 24 novembre", (2026, 11, 24, 9, 0), ""),
    ("fr", "14h", (2026, 11, 23, 14, 0), ""),
    ("fr", "8h", (2026, 11, 24, 8, 0), ""),
    ("fr", "à 9h demain", (2026, 11, 24, 9, 0), ""),
    ("fr", "2026-12-01 14:30", (2026, 12, 1, 14, 30), ""),
    ("fr", "Demain 9h « vaccin »", (2026, 11, 24, 9, 0), "« vaccin »"),
    ("fr", "demain la nuit", (2026, 11, 24, 9, 0), "la nuit"),
    ("fr", "hier", (2026, 11, 22, 9, 0), ""),
]

GERMAN: list[Row] = [
    ("de", "morgen um 9 Uhr", (2026, 11, 24, 9, 0), ""),
    ("de", "morgen um 9 Uhr 2 Tabletten", (2026, 11, 24, 9, 0), "2 Tabletten"),
    ("de", "morgen 9 Uhr 30 Tabletten", (2026, 11, 24, 9, 0), "30 Tabletten"),
    ("de", "morgen 2 Tabletten", (2026, 11, 24, 9, 0), "2 Tabletten"),
    ("de", "morgen", (2026, 11, 24, 9, 0), ""),
    ("de", "übermorgen", (2026, 11, 25, 9, 0), ""),
    ("de", "ubermorgen", (2026, 11, 25, 9, 0), ""),
    ("de", "heute 18 Uhr", (2026, 11, 23, 18, 0), ""),
    ("de", "heute Abend", (2026, 11, 23, 19, 0), ""),
    ("de", "morgen früh", (2026, 11, 24, 8, 0), ""),
    ("de", "morgen Abend um 8", (2026, 11, 24, 20, 0), ""),
    ("de", "nächsten Montag", (2026, 11, 30, 9, 0), ""),
    ("de", "nächsten Montag 14:00", (2026, 11, 30, 14, 0), ""),
    ("de", "am Freitag", (2026, 11, 27, 9, 0), ""),
    ("de", "Freitag 10 Kisten", (2026, 11, 27, 9, 0), "10 Kisten"),
    ("de", "Montag 14.30", (2026, 11, 23, 14, 30), ""),
    ("de", "14.30 Termin", (2026, 11, 23, 14, 30), "Termin"),
    ("de", "um 14.30 Uhr", (2026, 11, 23, 14, 30), ""),
    ("de", "um 14.30.", (2026, 11, 23, 14, 30), "."),
    ("de", "24.12.", (2026, 12, 24, 9, 0), ""),
    ("de", "24.12. Termin", (2026, 12, 24, 9, 0), "Termin"),
    ("de", "24.12.2026 14:30", (2026, 12, 24, 14, 30), ""),
    ("de", "01.12.2026", (2026, 12, 1, 9, 0), ""),
    ("de", "24. November", (2026, 11, 24, 9, 0), ""),
    ("de", "24. November 2027 um 10 Uhr", (2027, 11, 24, 10, 0), ""),
    ("de", "am 24. Dezember", (2026, 12, 24, 9, 0), ""),
    ("de", "24. Dez. 18 Uhr", (2026, 12, 24, 18, 0), ""),
    ("de", "3. März", (2027, 3, 3, 9, 0), ""),
    ("de", "Dienstag, 24. November", (2026, 11, 24, 9, 0), ""),
    ("de", "in 2 Tagen", (2026, 11, 25, 9, 0), ""),
    ("de", "in zwei Wochen", (2026, 12, 7, 9, 0), ""),
    ("de", "in einem Monat", (2026, 12, 23, 9, 0), ""),
    ("de", "in 3 Stunden", (2026, 11, 23, 13, 0), ""),
    ("de", "in 20 Minuten", (2026, 11, 23, 10, 20), ""),
    ("de", "nächste Woche", (2026, 11, 30, 9, 0), ""),
    ("de", "nächsten Monat", (2026, 12, 23, 9, 0), ""),
    ("de", "nächstes Jahr", (2027, 11, 23, 9, 0), ""),
    ("de", "Mitternacht", (2026, 11, 24, 0, 0), ""),
    ("de", "Mittag", (2026, 11, 23, 12, 0), ""),
    ("de", "9 Uhr", (2026, 11, 24, 9, 0), ""),
    ("de", "um 11", (2026, 11, 23, 11, 0), ""),
    ("de", "um 9 Uhr morgen", (2026, 11, 24, 9, 0), ""),
    ("de", "14:30 Uhr", (2026, 11, 23, 14, 30), ""),
    ("de", "morgen 9:00 Blutdruck < 140", (2026, 11, 24, 9, 0), "Blutdruck < 140"),
    ("de", "gestern", (2026, 11, 22, 9, 0), ""),
]
PHRASES = ENGLISH + FRENCH + GERMAN


def test_the_table_is_big_enough() -> None:
    assert len(PHRASES) >= 150


@pytest.mark.parametrize(("language", "text", "expected", "rest"), PHRASES)
def test_phrase(language: str, text: str, expected: tuple[int, int, int, int, int], rest: str) -> None:
    reading = read_when(text, language, PARIS, NOW)
    assert reading.moment.astimezone(PARIS) == paris(*expected)
    assert text[reading.end :].strip() == rest
    if not rest:
        assert parse_when(text, language, PARIS, NOW) == reading.moment


def test_seconds_are_elapsed_time() -> None:
    assert parse_when("in 2 seconds", "en", PARIS, NOW) == NOW + timedelta(seconds=2)


@pytest.mark.parametrize(
    ("language", "reads_as"), [("fr-CA", "fr"), ("de_AT", "de"), ("xx", "en"), ("../en", "en")]
)
def test_a_language_without_data_reads_as_its_base_or_english(language: str, reads_as: str) -> None:
    assert words(language).language == reads_as


def test_every_shipped_language_has_its_words() -> None:
    assert {"en", "fr", "de"} <= set(languages())
    for language in languages():
        vocabulary = words(language)
        assert len(set(vocabulary.months.values())) == 12
        assert len(set(vocabulary.weekdays.values())) == 7


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        (paris(2026, 11, 24, 15, 0), "in 1 month", paris(2026, 12, 24, 9, 0)),
        (paris(2026, 11, 24, 15, 0), "next month", paris(2026, 12, 24, 9, 0)),
        (paris(2027, 1, 31, 15, 0), "in 1 month", paris(2027, 2, 28, 9, 0)),
        (paris(2028, 1, 31, 15, 0), "in 1 month", paris(2028, 2, 29, 9, 0)),
        (paris(2026, 8, 31, 15, 0), "in 3 months", paris(2026, 11, 30, 9, 0)),
        (paris(2028, 2, 29, 15, 0), "in 1 year", paris(2029, 2, 28, 9, 0)),
        (
            paris(2026, 11, 23, 20, 0),
            "this evening",
            paris(2026, 11, 23, 19, 0),
        ),  # past: caller refuses
        (paris(2026, 11, 23, 20, 0), "noon", paris(2026, 11, 24, 12, 0)),
        (paris(2026, 11, 23, 8, 0), "monday", paris(2026, 11, 30, 9, 0)),
        (paris(2026, 11, 23, 8, 0), "monday 9:00", paris(2026, 11, 23, 9, 0)),
        (paris(2028, 1, 10, 9, 0), "29/02", paris(2028, 2, 29, 9, 0)),
    ],
)
def test_calendar_arithmetic(now: datetime, text: str, expected: datetime) -> None:
    assert parse_when(text, "en", PARIS, now) == expected


@pytest.mark.parametrize(
    ("language", "text", "problem", "value"),
    [
        ("en", "31 February", "day", "31"),
        ("en", "30/02", "day", "30"),
        ("en", "29/02/2027", "day", "29"),
        ("en", "29/02", "day", "29"),  # there is no 29 February in 2027
        ("en", "32 march", "day", "32"),
        ("en", "31/04/2027 call", "day", "31"),
        ("en", "12/13", "month", "13"),
        ("en", "2026-13-01", "month", "13"),
        ("en", "1/13/2026", "month", "13"),
        ("en", "25:00", "hour", "25"),
        ("en", "tomorrow 25:00 pills", "hour", "25"),
        ("en", "9:60", "minute", "60"),
        ("en", "tomorrow 9:60 pills", "minute", "60"),
        ("en", "24:30", "hour", "24"),
        ("en", "13pm", "hour", "13"),
        ("en", "at 25", "hour", "25"),
        ("fr", "25h", "hour", "25"),
        ("fr", "demain 9h75", "minute", "75"),
        ("fr", "31 février", "day", "31"),
        ("de", "30. Februar", "day", "30"),
        ("de", "25 Uhr", "hour", "25"),
        ("de", "31.04.2027", "day", "31"),
        ("de", "24.13.2026", "month", "13"),
        ("en", "1/1/1", "year", "1"),
        ("en", "0000-01-01", "year", "0000"),
        ("en", "24/12/0", "year", "0"),
        ("en", "24/12/99999", "year", "99999"),
        ("en", "99999-12-24", "year", "99999"),
        ("en", "1/1/1899", "year", "1899"),
        ("en", "24 Nov 0001", "year", "0001"),
        ("en", "in 8000 years", "year", "8000"),
        ("en", "in 999999999 days", "year", "999999999"),
        ("en", "in 100000000000000000000 days", "year", "100000000000000000000"),
        ("en", "in 100000000000000000000 hours", "year", "100000000000000000000"),
    ],
)
def test_impossible_dates_are_refused_not_reinterpreted(
    language: str, text: str, problem: str, value: str
) -> None:
    with pytest.raises(ImpossibleWhen) as caught:
        read_when(text, language, PARIS, NOW)
    assert (caught.value.problem, caught.value.value) == (problem, value)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", ""),
        ("en", "   "),
        ("en", "call"),
        ("en", "1"),
        ("en", "42"),
        ("en", "someday"),
        ("en", "10 boxes"),
        ("en", "today's dose"),
        ("en", "tomorrowland"),
        ("en", "last monday"),
        ("en", "9:5"),
        ("en", "2 weeks"),
        ("en", "Wednesday 24 Nov"),  # the 24th is a Tuesday: ask, do not pick one
        ("en", "every monday"),
        ("en", "every ² days"),
        ("en", "in ² days"),
        ("en", "²:00"),
        ("en", "daily"),
        ("fr", "tous les lundis à 9h"),
        ("fr", "chaque semaine"),
        ("de", "jeden Montag um 9 Uhr"),
        ("de", "alle 2 Wochen"),
        ("de", "täglich"),
    ],
)
def test_not_a_date(language: str, text: str) -> None:
    with pytest.raises(WhenError) as caught:
        read_when(text, language, PARIS, NOW)
    assert not isinstance(caught.value, ImpossibleWhen)


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "tomorrow call"), ("en", "tomorrow 9:00 x"), ("fr", "demain rdv"), ("de", "morgen Termin")],
)
def test_parse_when_wants_the_whole_text(language: str, text: str) -> None:
    with pytest.raises(WhenError):
        parse_when(text, language, PARIS, NOW)


NINE, EIGHT = time(9, 0), time(8, 0)
INTERVALS: list[tuple[str, str, Interval, str, bool]] = [
    ("en", "every monday", Interval(1, Unit.WEEK, 0, NINE), "", True),
    ("en", "every 2 weeks", Interval(2, Unit.WEEK), "", True),
    ("en", "each day 8:00", Interval(1, Unit.DAY, None, EIGHT), "", True),
    ("en", "every day at 8", Interval(1, Unit.DAY, None, EIGHT), "", True),
    ("en", "daily", Interval(1, Unit.DAY), "", True),
    ("en", "weekly", Interval(1, Unit.WEEK), "", True),
    ("en", "monthly", Interval(1, Unit.MONTH), "", True),
    ("en", "fortnightly", Interval(2, Unit.WEEK), "", True),
    ("en", "every other week", Interval(2, Unit.WEEK), "", True),
    ("en", "every two weeks", Interval(2, Unit.WEEK), "", True),
    ("en", "every 366 days", Interval(366, Unit.DAY), "", True),
    ("en", "every ٣ days", Interval(3, Unit.DAY), "", True),
    ("en", "every ３ weeks", Interval(3, Unit.WEEK), "", True),
    ("en", "every monday 9:00 weigh-in", Interval(1, Unit.WEEK, 0, NINE), "weigh-in", True),
    ("en", "every day 9:00 pill", Interval(1, Unit.DAY, None, NINE), "pill", True),
    ("en", "every day 2:30 night check", Interval(1, Unit.DAY, None, time(2, 30)), "night check", True),
    ("en", "every friday 10 boxes", Interval(1, Unit.WEEK, 4, NINE), "10 boxes", True),
    ("en", "mondays at 10", Interval(1, Unit.WEEK, 0, time(10, 0)), "", True),
    ("en", "2 weeks", Interval(2, Unit.WEEK), "", False),
    ("en", "month", Interval(1, Unit.MONTH), "", False),
    ("en", "3 months", Interval(3, Unit.MONTH), "", False),
    ("en", "monday 9:00", Interval(1, Unit.WEEK, 0, NINE), "", False),
    ("en", "day 8:00", Interval(1, Unit.DAY, None, EIGHT), "", False),
    ("fr", "tous les lundis à 9h", Interval(1, Unit.WEEK, 0, NINE), "", True),
    ("fr", "tous les jours", Interval(1, Unit.DAY), "", True),
    ("fr", "chaque semaine", Interval(1, Unit.WEEK), "", True),
    ("fr", "toutes les 2 semaines", Interval(2, Unit.WEEK), "", True),
    ("fr", "tous les 3 mois", Interval(3, Unit.MONTH), "", True),
    ("fr", "chaque lundi à 8h30 pesée", Interval(1, Unit.WEEK, 0, time(8, 30)), "pesée", True),
    ("fr", "tous les jours à 8h comprimé", Interval(1, Unit.DAY, None, EIGHT), "comprimé", True),
    ("fr", "3 mois", Interval(3, Unit.MONTH), "", False),
    ("de", "jeden Montag um 9 Uhr", Interval(1, Unit.WEEK, 0, NINE), "", True),
    ("de", "alle 2 Wochen", Interval(2, Unit.WEEK), "", True),
    ("de", "täglich", Interval(1, Unit.DAY), "", True),
    ("de", "jede Woche", Interval(1, Unit.WEEK), "", True),
    ("de", "jeden Tag um 8", Interval(1, Unit.DAY, None, EIGHT), "", True),
    ("de", "alle 3 Monate Kontrolle", Interval(3, Unit.MONTH), "Kontrolle", True),
    ("de", "montags 9 Uhr", Interval(1, Unit.WEEK, 0, NINE), "", True),
    ("de", "Montag 9 Uhr", Interval(1, Unit.WEEK, 0, NINE), "", False),
    ("de", "2 Wochen", Interval(2, Unit.WEEK), "", False),
]


@pytest.mark.parametrize(("language", "text", "expected", "rest", "marked"), INTERVALS)
def test_interval(language: str, text: str, expected: Interval, rest: str, marked: bool) -> None:
    reading = read_interval(text, language)
    assert reading.interval == expected
    assert text[reading.end :].strip() == rest
    assert reading.marked is marked
    assert Interval.decode(expected.encode()) == expected


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "every ² days"),
        ("en", "every 0 days"),
        ("en", "every 367 days"),
        ("en", "every 3 hours"),
        ("en", "every"),
        ("en", "sometimes"),
        ("en", "tomorrow 9:00"),
        ("fr", "tous les"),
        ("de", "alle ² Wochen"),
    ],
)
def test_not_an_interval(language: str, text: str) -> None:
    with pytest.raises(WhenError):
        read_interval(text, language)


def test_an_impossible_time_in_an_interval_is_said_so() -> None:
    with pytest.raises(ImpossibleWhen) as caught:
        read_interval("every day at 25:00", "en")
    assert caught.value.problem == "hour"


def test_parse_interval_wants_the_whole_text() -> None:
    with pytest.raises(WhenError):
        parse_interval("every monday weigh-in", "en")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (NOW, paris(2026, 11, 30, 9, 0)),  # Monday 10:00: today's 09:00 has gone
        (paris(2026, 11, 23, 8, 0), paris(2026, 11, 23, 9, 0)),
        (paris(2026, 11, 24, 10, 0), paris(2026, 11, 30, 9, 0)),  # a Tuesday
        (paris(2026, 11, 29, 23, 0), paris(2026, 11, 30, 9, 0)),
    ],
)
def test_a_weekday_cycle_starts_on_that_weekday(now: datetime, expected: datetime) -> None:
    first = first_occurrence(parse_interval("every monday", "en"), PARIS, now)
    assert first == expected
    assert first.weekday() == 0
