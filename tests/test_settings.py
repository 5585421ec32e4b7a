from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings


def test_defaults() -> None:
    settings = load_settings(None)
    assert settings.database.url == "sqlite+aiosqlite:///caseroom.db"
    assert settings.bot.language == "en" and settings.bot.timezone == "UTC"


def test_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "caseroom.toml"
    config.write_text('[bot]\ncase_managers = ["alice"]\nlanguage = "fr"\n', encoding="utf-8")
    monkeypatch.setenv("CASEROOM_BOT__TIMEZONE", "Europe/Zurich")
    monkeypatch.setenv("CASEROOM_BOT__LANGUAGE", "de")
    settings = load_settings(config)
    assert settings.bot.case_managers == ["alice"]
    assert settings.bot.language == "de"  # the environment wins over the file
    assert settings.bot.timezone == "Europe/Zurich"


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[bot]\ntimezone = "Mars/Olympus"\n', "bot.timezone"),
        ('[bot]\nlanguage = "tlh"\n', "bot.language"),
        ('[database]\nurl = "mysql://x"\n', "database.url"),
        ('[bot]\ncase_managers = "alice"\n', "bot.case_managers"),
        ('[bot]\ncase_manager = ["alice"]\n', "bot.case_manager"),
    ],
)
def test_wrong_values_name_the_key(tmp_path: Path, toml: str, key: str) -> None:
    config = tmp_path / "caseroom.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(config)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
