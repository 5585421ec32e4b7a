"""The schema comes only from Alembic; the app refuses a database it does not know."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command

from bot.app import App
from bot.settings import load_settings
from bot.storage.db import SchemaMismatch, alembic_config
from tests.databases import PostgresTemplates


def caseroom(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_models_and_migrations_agree(db_url: str, repo_root: Path) -> None:
    result = caseroom("db", "check", "--db", db_url, cwd=repo_root)
    assert result.returncode == 0, result.stderr
    assert "no drift" in result.stdout


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    config = alembic_config(db_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")


async def test_refuses_an_empty_database(tmp_path: Path) -> None:
    settings = load_settings(None, **{"database.url": f"sqlite+aiosqlite:///{tmp_path}/empty.db"})
    with pytest.raises(SchemaMismatch, match="caseroom db upgrade"):
        await App.build(settings)


def test_refuses_to_start_and_says_how_to_upgrade(tmp_path: Path, repo_root: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    result = caseroom("console", "--db", url, cwd=tmp_path)
    assert result.returncode != 0 and "caseroom db upgrade" in result.stderr
    assert caseroom("db", "upgrade", "--db", url, cwd=tmp_path).returncode == 0
    current = caseroom("db", "current", "--db", url, cwd=tmp_path)
    assert "(head)" in current.stdout


def test_postgres_empty_database_is_refused(
    postgres_templates: PostgresTemplates | None, tmp_path: Path
) -> None:
    if postgres_templates is None:
        pytest.skip("CASEROOM_TEST_POSTGRES_URL is not set")
    result = caseroom("console", "--db", postgres_templates.empty(), cwd=tmp_path)
    assert result.returncode != 0 and "caseroom db upgrade" in result.stderr
