"""The schema comes only from Alembic; the app prepares an empty database and refuses one it does not know."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from bot.app import App
from bot.settings import load_settings
from bot.storage.db import SchemaMismatch, alembic_config, create_engine, head_revision, schema_state


def caseroom(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS`, importing this checkout whatever the working directory."""
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_models_and_migrations_agree(db_url: str, repo_root: Path) -> None:
    result = caseroom("db", "check", "--db", db_url, cwd=repo_root)
    assert result.returncode == 0, result.stderr
    assert "no drift" in result.stdout


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    config = alembic_config(db_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")


async def test_prepares_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    app = await App.build(load_settings(None, **{"database.url": url}))
    try:
        assert (await schema_state(app.engine)).revision == head_revision(url)
    finally:
        await app.close()


async def test_refuses_an_older_database_and_leaves_it_as_it_is(db_url: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(db_url))
    head = scripts.get_current_head()
    assert head is not None
    previous = scripts.get_revision(head).down_revision
    assert isinstance(previous, str)
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), previous)  # Alembic runs its own loop
    with pytest.raises(
        SchemaMismatch, match=f"at revision {previous}, this caseroom needs {head}"
    ) as refused:
        await App.build(load_settings(None, **{"database.url": db_url}))
    assert "caseroom db upgrade --db URL" in refused.value.explain("caseroom db upgrade --db URL")
    engine = create_engine(db_url)
    try:
        assert (await schema_state(engine)).revision == previous
    finally:
        await engine.dispose()


def test_upgrade_then_current_shows_the_head(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/new.db"
    assert caseroom("db", "upgrade", "--db", url, cwd=tmp_path).returncode == 0
    current = caseroom("db", "current", "--db", url, cwd=tmp_path)
    assert "(head)" in current.stdout


async def test_revision_0004_numbers_existing_log_entries_per_case(db_url: str) -> None:
    """Entries logged before the action log was numbered get numbers 1, 2, ... per case, in log order."""
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0003")
    engine = create_engine(db_url)
    now = "2026-11-23 09:00:00"
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                f"INSERT INTO users (id, network, handle, created_at) VALUES (1, 'console', 'alice', '{now}')"
            )
            for case_id in (1, 2):
                await connection.exec_driver_sql(
                    "INSERT INTO cases (id, ref, label, network, status, language, created_by, created_at) "
                    f"VALUES ({case_id}, 'C-2026-000{case_id}', 'x', 'console', 'open', 'en', 1, '{now}')"
                )
            for entry_id, case_id in ((1, 1), (2, 2), (3, 1), (4, 1), (5, 2)):
                await connection.exec_driver_sql(
                    "INSERT INTO action_entries (id, case_id, author_id, kind, text, created_at) "
                    f"VALUES ({entry_id}, {case_id}, 1, 'action', 'e{entry_id}', '{now}')"
                )
        await asyncio.to_thread(command.upgrade, alembic_config(db_url), "head")
        async with engine.connect() as connection:
            rows = (
                await connection.exec_driver_sql("SELECT id, case_id, number FROM action_entries ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [(1, 1, 1), (2, 2, 1), (3, 1, 2), (4, 1, 3), (5, 2, 2)]
    finally:
        await engine.dispose()
