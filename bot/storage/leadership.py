"""One active bot per database.

With PostgreSQL several `caseroom run` processes may share a database: the one holding a session-level
advisory lock is active (it syncs, handles, fires reminders and sends); the others stand by and try to
take the lock every few seconds, so one of them takes over soon after the active one dies (its
connection closes and PostgreSQL releases the lock). With SQLite, a second process is refused: a
lock file next to the database says another one is running.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

# Any constant shared by every caseroom process: "caseroom" in ASCII.
ADVISORY_KEY = 0x6361736572_6F6F6D


class AlreadyRunning(Exception):
    """Another caseroom process is active on this SQLite database."""


class Leadership:
    def __init__(self, engine: AsyncEngine, retry_seconds: float = 5.0) -> None:
        self._engine = engine
        self._retry = retry_seconds
        self._connection: AsyncConnection | None = None
        self._lock_file: int | None = None

    @property
    def is_postgres(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    async def acquire(self) -> None:
        """Return once this process is the active one (PostgreSQL), or refuse at once (SQLite)."""
        if not self.is_postgres:
            self._lock_sqlite()
            return
        announced = False
        while True:
            connection = await self._engine.connect()
            got = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            if got:
                self._connection = connection
                log.info("this process is the active caseroom for the database")
                return
            await connection.invalidate()
            await connection.close()
            if not announced:
                log.info("another caseroom process is active; standing by to take over")
                announced = True
            await asyncio.sleep(self._retry)

    def _lock_sqlite(self) -> None:
        database = make_url(self._engine.url).database
        if not database or database == ":memory:":
            return
        path = Path(f"{database}.lock")
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise AlreadyRunning(
                f"another caseroom process is running on {database}; with SQLite only one may run "
                "(use PostgreSQL to run several, one active and the others standing by)"
            ) from None
        self._lock_file = descriptor

    async def still_held(self) -> bool:
        """False when the connection holding the advisory lock was lost: stop acting at once."""
        if self._connection is None:
            return True
        try:
            await self._connection.scalar(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def release(self) -> None:
        if self._connection is not None:
            try:
                # Close the physical connection (not back to the pool, which would keep the lock).
                await self._connection.invalidate()
                await self._connection.close()
            finally:
                self._connection = None
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None
