"""Translations and locale-aware formatting, per recipient.

The translator of whoever a message is for sits in a ContextVar; `_()` and `ngettext()` read it, so
code that builds a message for a member wraps it in `using(translator_of_member)`. Catalogs are read
from the .po files at start (compiled in memory), so no build step is needed.
"""

from __future__ import annotations

import datetime as dt
import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.paths import data_dir

DOMAIN = "messages"


@dataclass(frozen=True)
class Translator:
    language: str
    zone: ZoneInfo
    translations: gettext.NullTranslations

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def datetime(self, moment: dt.datetime) -> str:
        """A moment, in the reader's time zone and locale: 'Tue, Nov 24, 2026, 9:00 AM'."""
        local = moment.astimezone(self.zone)
        day = format_skeleton("yMMMEd", local, locale=self.language)
        clock = format_time(local, "short", locale=self.language)
        pattern: str = self.locale.datetime_formats["medium"]
        return pattern.replace("{1}", day).replace("{0}", clock)

    def date(self, moment: dt.datetime | dt.date) -> str:
        if isinstance(moment, dt.datetime):
            moment = moment.astimezone(self.zone).date()
        return str(format_skeleton("yMMMEd", moment, locale=self.language))

    def language_name(self, code: str) -> str:
        return str(Locale.parse(code).get_display_name(self.language))


class Catalogs:
    """The shipped languages' catalogs, loaded once by the composition root."""

    def __init__(self, locales_dir: Path | None = None) -> None:
        root = locales_dir or data_dir("locales")
        self._translations: dict[str, gettext.NullTranslations] = {"en": gettext.NullTranslations()}
        for po_path in sorted(root.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            language = po_path.parent.parent.name
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            buffer = BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            self._translations[language] = Translations(fp=buffer, domain=DOMAIN)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._translations))

    def translator(self, language: str, zone: str | ZoneInfo) -> Translator:
        tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
        translations = self._translations.get(language, self._translations["en"])
        return Translator(language if language in self._translations else "en", tz, translations)


_current: ContextVar[Translator | None] = ContextVar("caseroom_translator", default=None)


def current() -> Translator:
    translator = _current.get()
    if translator is None:
        raise RuntimeError("no translator in context: wrap the call in i18n.using(...)")
    return translator


@contextmanager
def using(translator: Translator) -> Iterator[Translator]:
    token = _current.set(translator)
    try:
        yield translator
    finally:
        _current.reset(token)


def _(message: str, **values: Any) -> str:
    text = current().gettext(message)
    return text.format(**values) if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    text = current().ngettext(singular, plural, n)
    return text.format(n=n, **values)


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where the reader is known."""
    return message


def fmt_datetime(moment: dt.datetime) -> str:
    return current().datetime(moment)


def fmt_date(moment: dt.datetime | dt.date) -> str:
    return current().date(moment)
