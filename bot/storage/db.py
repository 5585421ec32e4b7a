"""Engine, sessions, and the schema check that guards every start.

A start opens the database once on purpose (`open_database`), so an operator who got the URL wrong reads one
line naming the URL and the reason instead of a traceback. An empty database is prepared (the same Alembic
upgrade as `caseroom db upgrade`); any other database that is not at the newest revision is refused with what
to do, because migrating real care data is the operator's decision, made with a backup at hand.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.paths import data_dir

log = logging.getLogger(__name__)

VERSION_TABLE = "alembic_version"
UPGRADE_COMMAND = "caseroom db upgrade"


class DatabaseUnavailable(Exception):
    """The database cannot be opened (or prepared); the message names the URL, never its password."""

    def __init__(self, url: str, error: BaseException, doing: str = "open") -> None:
        super().__init__(f"cannot {doing} the database {shown_url(url)}: {reason(error)}")


class SchemaMismatch(Exception):
    """The database is not at the revision this code expects, and preparing it is not ours to decide."""

    def __init__(
        self, found: str | None, needed: str | None, kind: Literal["empty", "older", "newer", "foreign"]
    ) -> None:
        self.found, self.needed, self.kind = found, needed, kind
        super().__init__(self.explain())

    def explain(self, upgrade_command: str = f"{UPGRADE_COMMAND} (with the same --config/--db)") -> str:
        if self.kind == "newer":
            return (
                f"the database is at revision {self.found}, which this caseroom does not know (it needs "
                f"{self.needed}): this code is older than the database; run the caseroom version that "
                "upgraded it"
            )
        if self.kind == "empty":
            return (
                f"the database is empty (found: no revision, needed: {self.needed}); "
                f"run `{upgrade_command}` first"
            )
        if self.kind == "foreign":
            return (
                f"the database has tables but no caseroom revision (found: none, needed: {self.needed}); "
                "only an empty database is prepared automatically. If it is meant for caseroom, run "
                f"`{upgrade_command}`; otherwise use an empty database"
            )
        return (
            f"the database is at revision {self.found}, this caseroom needs {self.needed}; "
            f"run `{upgrade_command}` first (back the database up before)"
        )


def shown_url(url: str) -> str:
    """The URL as an operator may read it in a log: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", url)


def reason(error: BaseException) -> str:
    """The driver's own words on one line, without SQLAlchemy's wrapping and background link."""
    cause: BaseException = error
    if isinstance(error, DBAPIError) and error.orig is not None:
        cause = error.orig
    return " ".join(str(cause).split()) or type(cause).__name__


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, begin transactions, so SAVEPOINTs work as documented.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(connection: Connection) -> None:
            # Take the write lock up front: two deferred transactions that both upgrade to writing would
            # fail at once with "database is locked" instead of waiting for each other.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, pool_pre_ping=True)


async def open_database(url: str) -> AsyncEngine:
    """An engine that has connected once: whatever stops the first connection is `DatabaseUnavailable`."""
    try:
        engine = create_engine(url)
        if engine.dialect.name == "sqlite":
            await asyncio.to_thread(_open_sqlite_file, engine.url.database, dict(engine.url.query))
    except Exception as error:
        raise DatabaseUnavailable(url, error) from error
    try:
        async with engine.connect():
            pass
    except Exception as error:  # missing directory, refused connection, unknown database, credentials...
        await engine.dispose()
        raise DatabaseUnavailable(url, error) from error
    return engine


def _open_sqlite_file(database: str | None, query: dict[str, Any]) -> None:
    """Open the file once with the standard driver: when aiosqlite fails to connect, its worker thread
    outlives the failure and may report into an event loop that is already closed (a stray traceback on
    stderr), so the usual failures (missing directory, no permission) are found here without it."""
    if not database or database == ":memory:" or query:
        return
    sqlite3.connect(database).close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(data_dir("migrations")))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


@dataclass(frozen=True)
class SchemaState:
    revision: str | None
    tables: int  # besides Alembic's own version table

    @property
    def empty(self) -> bool:
        return self.revision is None and self.tables == 0


async def schema_state(engine: AsyncEngine) -> SchemaState:
    def _read(connection: Connection) -> SchemaState:
        revision = MigrationContext.configure(connection).get_current_revision()
        tables = [name for name in inspect(connection).get_table_names() if name != VERSION_TABLE]
        return SchemaState(revision, len(tables))

    async with engine.connect() as connection:
        return await connection.run_sync(_read)


def _full_url(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


async def check_schema(engine: AsyncEngine) -> bool:
    """True when the database is empty (to prepare), False when at the newest revision; else refuse."""
    state = await schema_state(engine)
    script = ScriptDirectory.from_config(alembic_config(_full_url(engine)))
    head = script.get_current_head()
    if state.revision == head:
        return False
    if state.empty:
        return True
    if state.revision is None:
        raise SchemaMismatch(None, head, "foreign")
    try:
        known = script.get_revision(state.revision) is not None
    except CommandError:
        known = False
    raise SchemaMismatch(state.revision, head, "older" if known else "newer")


async def ensure_at_head(engine: AsyncEngine) -> None:
    """Refuse to run on a database this code does not know (empty, older or newer)."""
    if await check_schema(engine):
        head = head_revision(_full_url(engine))
        raise SchemaMismatch(None, head, "empty")


async def prepare_schema(engine: AsyncEngine) -> None:
    """Bring an empty database to the newest revision, then insist that it is there.

    Call it holding the database lock (`Leadership`): when two processes start on one empty PostgreSQL
    database, the first prepares it while the second waits for the lock, then finds it ready.
    """
    if await check_schema(engine):
        url = _full_url(engine)
        log.info(
            "the database %s is empty; creating the schema at revision %s", shown_url(url), head_revision(url)
        )
        try:
            # Alembic's env runs its own event loop: give it a thread, exactly as `caseroom db upgrade` runs.
            await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
        except (DBAPIError, OSError) as error:  # read-only file, full disk, lost connection...
            raise DatabaseUnavailable(url, error, "prepare") from error
    await ensure_at_head(engine)
