"""How long a Telegram message can be doubled by a crash: the time between Telegram's answer to a send and
the commit that marks the outbox row sent (Telegram has no idempotency key, so a crash in that window
sends the message again after the restart).

Runs the real outbox and Telegram adapter against the suite's fake Bot API on loopback, on SQLite (and on
PostgreSQL with --postgres URL), and prints the median and p99 of that window, and of a whole send.

    .venv/bin/python bench/telegram_window.py [--messages 500] [--postgres postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
from pathlib import Path

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.core.clock import SystemClock
from bot.delivery.outbox import OutboxSender
from bot.domain.events import SendMessage, Target
from bot.settings import TelegramSettings
from bot.storage.db import open_database, prepare_schema, session_factory
from bot.storage.repo import Repo
from tests.telegram.fake_api import FakeBotAPI

CHAT = 5001


async def measure(url: str, messages: int) -> tuple[list[float], list[float]]:
    fake = FakeBotAPI(username="caseroom_bench_bot")
    await fake.serve()
    fake.user(CHAT, "reader")
    fake.start(CHAT)
    engine = await open_database(url)
    await prepare_schema(engine)
    sessions = session_factory(engine)
    stamps: dict[str, float] = {}
    windows: list[float] = []

    def failpoint(name: str) -> None:
        if name in ("outbox.before_request", "outbox.after_request"):
            stamps[name] = time.perf_counter()
        elif name == "outbox.after_commit":
            windows.append(time.perf_counter() - stamps["outbox.after_request"])
            sends.append(time.perf_counter() - stamps["outbox.before_request"])

    sends: list[float] = []
    settings = TelegramSettings(
        token=fake.token, base_url=fake.base_url, chat_interval_seconds=0, messages_per_second=10_000
    )
    adapter = TelegramAdapter(settings)
    await adapter.bot.initialize()
    sender = OutboxSender(sessions, adapter, SystemClock(), failpoint)
    clock = SystemClock()
    async with sessions.begin() as session:
        for n in range(messages):
            await Repo(session).enqueue(
                "telegram", Target(room_id=str(CHAT)), SendMessage(f"m{n}"), clock.now()
            )
    await sender.flush()
    await adapter.bot.shutdown()
    await engine.dispose()
    await fake.close()
    assert len(fake.sent(CHAT)) == messages
    return windows, sends


def report(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return f"{name}: median {statistics.median(values) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL database (it gets the schema)")
    options = parser.parse_args()
    machine = f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"
    print(f"{machine}, {options.messages} sends")
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'window.db'}")]
        if options.postgres:
            targets.append(("PostgreSQL", options.postgres))
        for label, url in targets:
            windows, sends = await measure(url, options.messages)
            print(f"{label}: {report('doubling window', windows)}; {report('whole send', sends)}")


if __name__ == "__main__":
    asyncio.run(main())
