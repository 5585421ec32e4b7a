"""The catalogs: every message translated in every shipped language, placeholders consistent, up to date."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import Catalogs, _, using
from bot.settings import SUPPORTED_LANGUAGES

PLACEHOLDER = re.compile(r"\{(\w*)\}")


def catalog(root: Path, language: str):  # type: ignore[no-untyped-def]
    with (root / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def test_shipped_languages_match_the_settings(repo_root: Path) -> None:
    assert Catalogs(repo_root / "locales").languages == tuple(sorted(SUPPORTED_LANGUAGES))


@pytest.mark.parametrize("language", [lang for lang in SUPPORTED_LANGUAGES if lang != "en"])
def test_every_message_is_translated_with_the_same_placeholders(repo_root: Path, language: str) -> None:
    template = catalog(repo_root, language)
    with (repo_root / "locales" / "messages.pot").open("rb") as handle:
        pot = read_po(handle)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in pot if m.id}
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    assert ids == translated, (
        f"catalog out of date; run scripts/update-catalogs: {sorted(ids ^ translated)[:5]}"
    )
    problems: list[tuple[str, ...]] = [("obsolete", str(key)) for key in template.obsolete]
    for message in template:
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(" ".join(sources)))
        if message.fuzzy:
            problems.append(("fuzzy", sources[0]))
        for text in strings:
            found = set(PLACEHOLDER.findall(text))
            if not text:
                problems.append(("untranslated", sources[0]))
            elif found - wanted or (wanted - {"n"}) - found:
                problems.append(("placeholders", sources[0], text))
            for command in re.findall(r"!\w+", " ".join(sources)):
                if command not in text:
                    problems.append(("command renamed", sources[0], text))
    assert problems == []


def test_the_template_holds_every_message_of_the_code(repo_root: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "--quiet",
            "extract",
            "-F",
            "locales/babel.cfg",
            "--no-location",
            "--sort-output",
            "-o",
            str(fresh),
            "bot",
            "conversations",
        ],
        cwd=repo_root,
        check=True,
    )
    with fresh.open("rb") as handle:
        current = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with (repo_root / "locales" / "messages.pot").open("rb") as handle:
        shipped = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert current == shipped, f"run scripts/update-catalogs: {sorted(current ^ shipped)[:5]}"


def test_translation_and_plural_forms(repo_root: Path) -> None:
    catalogs = Catalogs(repo_root / "locales")
    with using(catalogs.translator("de", "Europe/Berlin")):
        assert _("Stopped. Nothing more will be asked.") != "Stopped. Nothing more will be asked."
    from bot.i18n import ngettext

    with using(catalogs.translator("fr", "Europe/Paris")):
        one = ngettext("{n} action logged", "{n} actions logged", 1)
        many = ngettext("{n} action logged", "{n} actions logged", 5)
        assert one.startswith("1 ") and many.startswith("5 ") and one != many.replace("5", "1")


def test_dates_follow_the_readers_locale_and_zone(repo_root: Path) -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    catalogs = Catalogs(repo_root / "locales")
    assert catalogs.translator("de", "Europe/Berlin").datetime(moment) == "Di., 24. Nov. 2026, 09:00"
    assert catalogs.translator("fr", "America/Montreal").datetime(moment) == "mar. 24 nov. 2026, 03:00"
