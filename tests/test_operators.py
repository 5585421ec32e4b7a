"""What an operator sees when starting caseroom: the real command, run as a process.

An empty database is prepared on first start; a database at another revision is refused with the command to
run; a database that cannot be opened is one line naming the URL and the reason, never a traceback.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot.storage.db import alembic_config, create_engine, schema_state
from tests.databases import PostgresTemplates

ROOT = Path(__file__).resolve().parent.parent
PREPARED = "is empty; creating the schema"
SCRIPT = "alice: !help\n"


def caseroom(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS`, importing this checkout whatever the working directory."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def script(tmp_path: Path) -> Path:
    path = tmp_path / "script.txt"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def revision(url: str) -> str | None:
    async def read() -> str | None:
        engine = create_engine(url)
        try:
            return (await schema_state(engine)).revision
        finally:
            await engine.dispose()

    return asyncio.run(read())


def head_and_previous(url: str) -> tuple[str, str]:
    scripts = ScriptDirectory.from_config(alembic_config(url))
    head = scripts.get_current_head()
    assert head is not None
    previous = scripts.get_revision(head).down_revision
    assert isinstance(previous, str)
    return head, previous


def assert_started_on_a_prepared_database(result: subprocess.CompletedProcess[str], url: str) -> None:
    assert result.returncode == 0, result.stderr
    assert "[dm:alice] Commands you can use here" in result.stdout
    assert result.stderr.count(PREPARED) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert revision(url) == head_and_previous(url)[0]


def test_console_prepares_an_empty_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/new.db"
    result = caseroom("-v", "console", "--db", url, "--script", str(script(tmp_path)), cwd=tmp_path)
    assert_started_on_a_prepared_database(result, url)
    again = caseroom("-v", "console", "--db", url, "--script", str(script(tmp_path)), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert PREPARED not in again.stderr  # prepared once, then only checked


def test_run_prepares_an_empty_database_named_in_the_settings(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/new.db"
    settings = tmp_path / "caseroom.toml"
    settings.write_text(f'[database]\nurl = "{url}"\n\n[console]\nenabled = true\n', encoding="utf-8")
    result = caseroom("-v", "run", "--config", str(settings), cwd=tmp_path, stdin=SCRIPT)
    assert_started_on_a_prepared_database(result, url)


def test_console_prepares_an_empty_postgres_database(
    postgres_templates: PostgresTemplates | None, tmp_path: Path
) -> None:
    if postgres_templates is None:
        pytest.skip("CASEROOM_TEST_POSTGRES_URL is not set")
    url = postgres_templates.empty()
    result = caseroom("-v", "console", "--db", url, "--script", str(script(tmp_path)), cwd=tmp_path)
    assert_started_on_a_prepared_database(result, url)


def test_two_processes_starting_on_one_empty_postgres_database_prepare_it_once(
    postgres_templates: PostgresTemplates | None, tmp_path: Path
) -> None:
    if postgres_templates is None:
        pytest.skip("CASEROOM_TEST_POSTGRES_URL is not set")
    url = postgres_templates.empty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "bot", "-v", "console", "--db", url, "--script", str(script(tmp_path))]
    processes = [
        subprocess.Popen(
            args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
        assert "[dm:alice] Commands you can use here" in stdout
        assert "Traceback" not in stderr
    assert sum(stderr.count(PREPARED) for _, stderr in outputs) == 1
    assert revision(url) == head_and_previous(url)[0]


def test_a_database_at_an_older_revision_is_refused_with_the_command_to_run(
    db_url: str, tmp_path: Path
) -> None:
    head, previous = head_and_previous(db_url)
    command.downgrade(alembic_config(db_url), previous)
    result = caseroom("console", "--db", db_url, "--script", str(script(tmp_path)), cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"at revision {previous}, this caseroom needs {head}" in result.stderr
    assert f"`caseroom db upgrade --db {db_url}`" in result.stderr
    assert revision(db_url) == previous  # refused, not upgraded behind the operator's back


def test_the_command_to_run_repeats_the_settings_file(tmp_path: Path, sqlite_url: str) -> None:
    previous = head_and_previous(sqlite_url)[1]
    command.downgrade(alembic_config(sqlite_url), previous)
    settings = tmp_path / "caseroom.toml"
    settings.write_text(f'[database]\nurl = "{sqlite_url}"\n', encoding="utf-8")
    result = caseroom("run", "--config", str(settings), cwd=tmp_path, stdin=SCRIPT)
    assert result.returncode != 0
    assert f"run `caseroom db upgrade --config {settings}` first" in result.stderr
    assert caseroom("db", "upgrade", "--config", str(settings), cwd=tmp_path).returncode == 0
    assert caseroom("run", "--config", str(settings), cwd=tmp_path, stdin=SCRIPT).returncode == 0


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    path = sqlite_url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.close()
    result = caseroom("console", "--db", sqlite_url, "--script", str(script(tmp_path)), cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    head = head_and_previous(sqlite_url)[0]
    assert f"at revision 9999, which this caseroom does not know (it needs {head})" in result.stderr
    assert "this code is older than the database" in result.stderr


def test_a_database_with_tables_but_no_revision_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE patients (id INTEGER PRIMARY KEY)")
    connection.close()
    url = f"sqlite+aiosqlite:///{path}"
    result = caseroom("console", "--db", url, "--script", str(script(tmp_path)), cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "has tables but no caseroom revision" in result.stderr
    assert f"`caseroom db upgrade --db {url}`" in result.stderr
    assert revision(url) is None


UNOPENABLE = {
    "missing directory": (
        "sqlite+aiosqlite:///{tmp}/nowhere/x.db",
        "sqlite+aiosqlite:///{tmp}/nowhere/x.db: unable to open database file",
    ),
    "server not listening": (
        "postgresql+asyncpg://postgres:s3cret@127.0.0.1:1/caseroom",
        "postgresql+asyncpg://postgres:***@127.0.0.1:1/caseroom: ",
    ),
}
COMMANDS = {
    "console": ["console", "--script", "{script}"],
    "db upgrade": ["db", "upgrade"],
    "db current": ["db", "current"],
    "db check": ["db", "check"],
}


def assert_one_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"caseroom: cannot open the database {expected}"), lines[0]


@pytest.mark.parametrize("command_name", COMMANDS)
@pytest.mark.parametrize("case", UNOPENABLE)
def test_a_database_that_cannot_be_opened_is_one_line(case: str, command_name: str, tmp_path: Path) -> None:
    url, expected = (text.format(tmp=tmp_path) for text in UNOPENABLE[case])
    args = [arg.format(script=script(tmp_path)) for arg in COMMANDS[command_name]]
    result = caseroom(*args, "--db", url, cwd=tmp_path)
    assert_one_line(result, expected)
    assert "s3cret" not in result.stderr
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("command_name", COMMANDS)
def test_a_postgres_database_that_does_not_exist_is_one_line(
    postgres_templates: PostgresTemplates | None, command_name: str, tmp_path: Path
) -> None:
    if postgres_templates is None:
        pytest.skip("CASEROOM_TEST_POSTGRES_URL is not set")
    url = postgres_templates.url_for("caseroom_no_such_database")
    args = [arg.format(script=script(tmp_path)) for arg in COMMANDS[command_name]]
    result = caseroom(*args, "--db", url, cwd=tmp_path)
    shown = make_url(url).render_as_string(hide_password=True)
    assert_one_line(result, f'{shown}: database "caseroom_no_such_database" does not exist')
