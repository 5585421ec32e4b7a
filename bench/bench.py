"""caseroom benchmarks: start-up with a large database, a burst of reminders, command throughput.

Run with `scripts/bench` (SQLite, and PostgreSQL when one answers on 127.0.0.1:5432). Each figure is
the median of several runs; the machine is printed with the results. This is a benchmark, not a test:
it asserts nothing and is never run by the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import event, insert

from bot.adapters.console import NETWORK
from bot.app import App
from bot.domain.events import Effect, SendMessage, TextMessage
from bot.settings import load_settings
from bot.storage import models
from bot.storage.db import alembic_config, create_engine, session_factory

CASES = 100_000
REMINDERS_PER_CASE = 10
BURST = 1_000


class Sink:
    """An in-process network: records when each message was handed over."""

    network = NETWORK.name

    def __init__(self) -> None:
        self.handed: list[tuple[float, SendMessage]] = []

    async def deliver(self, room_id: str | None, effect: Effect, txn_id: str) -> str | None:
        if isinstance(effect, SendMessage):
            self.handed.append((time.time(), effect))
        return room_id if room_id else None


def settings_for(url: str) -> Any:
    return load_settings(None, **{"database.url": url, "bot.case_managers": ["cm0"]})


async def populate(url: str, cases: int, per_case: int) -> None:
    """Cases with a case manager each, and their pending reminders (spread over the coming year)."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    chunk = 5_000
    async with session_factory(engine).begin() as session:
        await session.execute(
            insert(models.User),
            [
                {"id": 1, "network": "console", "handle": "cm0", "created_at": now},
                # Sets the burst's reminders for cm0: a reminder one sets for oneself is personal and goes
                # to one's direct chat, which these cases' case manager has not opened.
                {"id": 2, "network": "console", "handle": "cm1", "created_at": now},
            ],
        )
    for start in range(0, cases, chunk):
        ids = range(start + 1, min(start + chunk, cases) + 1)
        async with session_factory(engine).begin() as session:
            await session.execute(
                insert(models.Case),
                [
                    {
                        "id": i,
                        "ref": f"C-2026-{i:06d}",
                        "label": f"case {i}",
                        "network": "console",
                        "room_id": f"C-2026-{i:06d}",
                        "status": "open",
                        "language": "en",
                        "created_by": 1,
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            await session.execute(
                insert(models.Member),
                [
                    {
                        "case_id": i,
                        "user_id": 1,
                        "role": "case-manager",
                        "state": "joined",
                        "invited_by": 1,
                        "invited_at": now,
                        "joined_at": now,
                    }
                    for i in ids
                ],
            )
            await session.execute(
                insert(models.Reminder),
                [
                    {
                        "case_id": i,
                        "number": n + 1,
                        "kind": "reminder",
                        "created_by": 1,
                        "target_kind": "user",
                        "target_user_id": 1,
                        "text": "check in",
                        "due_at": now + timedelta(days=1 + (i * 7 + n) % 365),
                        "timezone": "Europe/Paris",
                        "status": "pending",
                        "fired_count": 0,
                        "created_at": now,
                    }
                    for i in ids
                    for n in range(per_case)
                ],
            )
    await engine.dispose()


def fresh_database(kind: str, root: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{root}/bench-{uuid.uuid4().hex[:8]}.db"
    else:
        name = f"caseroom_bench_{uuid.uuid4().hex[:8]}"
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f'CREATE DATABASE "{name}"'], check=True
        )
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    command.upgrade(alembic_config(url), "head")
    return url


def _process_age() -> float:
    """Seconds since this process started (Linux), imports included."""
    ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - ticks / os.sysconf("SC_CLK_TCK")


async def startup_once(url: str) -> dict[str, float]:
    """One start in this (fresh) process: build, connect, handle what waited, arm the alarm."""
    began = time.perf_counter()
    app = await App.build(settings_for(url))
    app.attach(NETWORK, Sink())
    await app.start()
    ready = time.perf_counter() - began
    process_ready = _process_age()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    await app.close()
    return {"process_start_to_ready_s": process_ready, "app_build_to_ready_s": ready, "max_rss_mb": rss}


async def burst(url: str) -> dict[str, float]:
    """BURST reminders due within one minute: lateness from due time to the hand-over to the network."""
    engine = create_engine(url)
    due_base = datetime.now(UTC) + timedelta(seconds=8)
    numbers = random.randint(1, 10**6) * BURST
    async with session_factory(engine).begin() as session:
        rows = [
            {
                "case_id": 1 + i % 1000,
                "number": numbers + i,
                "kind": "reminder",
                "created_by": 2,
                "target_kind": "user",
                "target_user_id": 1,
                "text": f"burst {i}",
                "due_at": due_base + timedelta(milliseconds=60 * i),
                "timezone": "UTC",
                "status": "pending",
                "fired_count": 0,
                "created_at": datetime.now(UTC),
            }
            for i in range(BURST)
        ]
        await session.execute(insert(models.Reminder), rows)
    await engine.dispose()
    app = await App.build(settings_for(url), poll_seconds=60)
    sink = Sink()
    app.attach(NETWORK, sink)
    await app.start()
    deadline = time.time() + 120
    while time.time() < deadline and sum("burst" in m.text for _t, m in sink.handed) < BURST:
        await asyncio.sleep(0.2)
    await app.close()
    due = {f"burst {i}": (due_base + timedelta(milliseconds=60 * i)).timestamp() for i in range(BURST)}
    lateness = sorted(
        t - due[m.text.split(": ", 1)[1].removeprefix("Reminder: ")]
        for t, m in sink.handed
        if "burst" in m.text
    )
    return {
        "delivered": len(lateness),
        "p50_s": lateness[len(lateness) // 2],
        "p99_s": lateness[int(len(lateness) * 0.99) - 1],
        "max_s": lateness[-1],
    }


async def commands(url: str, count: int = 500) -> dict[str, float]:
    """Commands through the console adapter's path (inbox, handling, outbox, delivery) on one case room."""
    app = await App.build(settings_for(url))
    sink = Sink()
    app.attach(NETWORK, sink)
    await app.start()
    # Reads and writes that leave the case the same size, so every run measures the same work.
    texts = ["!plan", "!log visit done", "!history #1", "!reminders", "!members", "!lang en"]
    await app.handle(
        TextMessage("console", uuid.uuid4().hex, "C-2026-000001", "cm0", "!plan add Home help", False)
    )
    # Where the time goes: statements and transactions per command, and CPU time against wall time.
    statements = transactions = 0

    def on_statement(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    def on_commit(*_args: Any) -> None:
        nonlocal transactions
        transactions += 1

    event.listen(app.engine.sync_engine, "before_cursor_execute", on_statement)
    event.listen(app.engine.sync_engine, "commit", on_commit)
    latencies = []
    began, cpu_began = time.perf_counter(), time.process_time()
    for n in range(count):
        text = texts[n % len(texts)]
        start = time.perf_counter()
        await app.handle(TextMessage("console", uuid.uuid4().hex, "C-2026-000001", "cm0", text, False))
        latencies.append(time.perf_counter() - start)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    await app.close()
    latencies.sort()
    return {
        "commands_per_s": count / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(count * 0.99) - 1] * 1000,
        "cpu_ms_per_command": cpu / count * 1000,
        "statements_per_command": statements / count,
        "transactions_per_command": transactions / count,
    }


def run_in_subprocess(kind: str, url: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--one", kind, url], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in runs), 4) for key in runs[0]}


def calibration_ms() -> float:
    """The same machine class can run twice as fast one day as another: print how fast it is today."""
    timings = []
    for _ in range(5):
        began = time.perf_counter()
        sum(i * i for i in range(2_000_000))
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", nargs=2, metavar=("WHAT", "URL"), help=argparse.SUPPRESS)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", type=int, default=CASES)
    parser.add_argument("--root", default="bench/.data")
    parser.add_argument("--burst-runs", type=int, default=1)
    args = parser.parse_args()
    if args.one:
        what, url = args.one
        result = asyncio.run({"startup": startup_once, "burst": burst, "commands": commands}[what](url))
        print(json.dumps(result))
        return
    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    if args.cases < BURST:
        parser.error(f"--cases must be at least {BURST} (the burst spreads over {BURST} cases)")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"speed: {calibration_ms():.0f} ms for a fixed pure-Python loop (lower is faster)"
    )
    for kind in args.backends.split(","):
        url = fresh_database(kind, root)
        try:
            measure(kind, url, args)
        finally:
            drop_database(kind, url)


def measure(kind: str, url: str, args: argparse.Namespace) -> None:
    began = time.perf_counter()
    asyncio.run(populate(url, args.cases, REMINDERS_PER_CASE))
    print(
        f"[{kind}] {args.cases:,} cases, {args.cases * REMINDERS_PER_CASE:,} pending reminders "
        f"written in {time.perf_counter() - began:.1f} s"
    )
    starts = [run_in_subprocess("startup", url) for _ in range(args.runs)]
    print(f"[{kind}] start to ready: {median_of(starts)}")
    handled = [run_in_subprocess("commands", url) for _ in range(args.runs)]
    print(f"[{kind}] commands: {median_of(handled)}")
    bursts = [run_in_subprocess("burst", url) for _ in range(args.burst_runs)]
    print(f"[{kind}] {BURST} reminders in one minute: {median_of(bursts)}")


def drop_database(kind: str, url: str) -> None:
    """Leave nothing behind: the PostgreSQL database, or the SQLite file and its companions."""
    if kind == "sqlite":
        path = Path(url.split("///", 1)[1])
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
    else:
        name = url.rsplit("/", 1)[1]
        drop = f'DROP DATABASE IF EXISTS "{name}"'
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", drop], check=True)


if __name__ == "__main__":
    main()
