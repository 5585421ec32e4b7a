"""How long `caseroom audit verify` takes on a long trail, and what an append costs.

Builds a migrated database, fills its audit trail with a valid chain of N entries (bulk inserts, not the
bot's appends), then times `audit.verify` (the code the command runs) and 1,000 appends through
`audit.record`, each in its own transaction as the bot does. A benchmark: it asserts nothing.

    .venv/bin/python bench/audit_verify.py [--entries 100000] [--postgres postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from alembic import command
from sqlalchemy import insert, update
from sqlalchemy.engine import make_url

from bot.core import audit
from bot.storage.db import alembic_config, create_engine, session_factory
from bot.storage.models import AuditEntry, AuditHead
from bot.storage.repo import Repo

START = datetime(2026, 1, 1, tzinfo=UTC)
ACTIONS = ("plan add", "log", "member.joined", "history", "remind", "ack.reaction")


async def fill(url: str, entries: int) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    prev, rows = audit.GENESIS, []
    for i in range(1, entries + 1):
        at = START + timedelta(seconds=37 * i, microseconds=i % 1000)
        action, case = ACTIONS[i % len(ACTIONS)], i % 400 + 1
        ref = f"C-2026-{case:04d}"
        digest = audit.entry_hash(prev, i, at, "matrix", i % 900 + 1, case, ref, action, "ok")
        rows.append(
            {
                "id": i,
                "at": at,
                "network": "matrix",
                "actor_id": i % 900 + 1,
                "case_id": case,
                "case_ref": ref,
                "action": action,
                "outcome": "ok",
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    async with sessions.begin() as session:
        for start in range(0, len(rows), 5000):
            await session.execute(insert(AuditEntry), rows[start : start + 5000])
        await session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_id=entries, hash=prev))
    await engine.dispose()


async def measure(url: str, entries: int, runs: int) -> None:
    await fill(url, entries)
    engine = create_engine(url)
    sessions = session_factory(engine)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        result = await audit.verify(sessions)
        times.append(time.perf_counter() - began)
        assert result.broken is None and result.entries == entries, result
    appends = []
    for i in range(1000):
        began = time.perf_counter()
        async with sessions.begin() as session:
            await audit.record(Repo(session), at=datetime.now(UTC), action="plan", actor_id=i, case_id=1)
        appends.append(time.perf_counter() - began)
    began = time.perf_counter()
    async with sessions.begin() as session:
        for i in range(1000):
            await audit.record(Repo(session), at=datetime.now(UTC), action="plan", actor_id=i, case_id=1)
    inside = (time.perf_counter() - began) / 1000
    await engine.dispose()
    name = make_url(url).get_backend_name()
    print(
        f"{name}: verify {entries:,} entries: median {statistics.median(times):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in times)}); "
        f"append in its own transaction: median {statistics.median(appends) * 1000:.2f} ms, "
        f"p99 {sorted(appends)[int(len(appends) * 0.99)] * 1000:.2f} ms; "
        f"what an append adds to a transaction (a command's): {inside * 1000:.2f} ms"
    )


async def postgres_database(admin: str) -> tuple[str, str]:
    name = f"caseroom_bench_{uuid.uuid4().hex[:8]}"
    dsn = make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return make_url(admin).set(database=name).render_as_string(hide_password=False), name


async def drop_postgres(admin: str, name: str) -> None:
    dsn = make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="an admin URL; a database is created and dropped")
    options = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        command.upgrade(alembic_config(url), "head")
        asyncio.run(measure(url, options.entries, options.runs))
    if options.postgres:
        url, name = asyncio.run(postgres_database(options.postgres))
        try:
            command.upgrade(alembic_config(url), "head")
            asyncio.run(measure(url, options.entries, options.runs))
        finally:
            asyncio.run(drop_postgres(options.postgres, name))


if __name__ == "__main__":
    main()
