"""Fresh, migrated databases for tests: SQLite always, PostgreSQL when CASEROOM_TEST_POSTGRES_URL is set.

A template is migrated once per session (Alembic, the real migrations); each test gets a copy of it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg
from alembic import command
from sqlalchemy.engine import make_url

from bot.storage.db import alembic_config

POSTGRES_ENV = "CASEROOM_TEST_POSTGRES_URL"


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _dsn(url: str, database: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


async def _pg(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(_dsn(url, make_url(url).database or "postgres"))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


class SqliteTemplates:
    def __init__(self, root: Path) -> None:
        self._template = root / "template.db"
        command.upgrade(alembic_config(f"sqlite+aiosqlite:///{self._template}"), "head")
        self._root = root

    def fresh(self) -> str:
        path = self._root / f"{uuid.uuid4().hex}.db"
        shutil.copy(self._template, path)
        return f"sqlite+aiosqlite:///{path}"


class PostgresTemplates:
    def __init__(self, admin_url: str) -> None:
        self._admin = admin_url
        self._template = f"caseroom_tpl_{uuid.uuid4().hex[:8]}"
        self._created: list[str] = []
        asyncio.run(_pg(admin_url, f'CREATE DATABASE "{self._template}"'))
        command.upgrade(alembic_config(self.url_for(self._template)), "head")

    def url_for(self, database: str) -> str:
        return make_url(self._admin).set(database=database).render_as_string(hide_password=False)

    def fresh(self) -> str:
        name = f"caseroom_t_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg(self._admin, f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"'))
        self._created.append(name)
        return self.url_for(name)

    def empty(self) -> str:
        name = f"caseroom_e_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg(self._admin, f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        return self.url_for(name)

    def drop_all(self) -> None:
        statements = [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in [*self._created, self._template]]
        asyncio.run(_pg(self._admin, *statements))
