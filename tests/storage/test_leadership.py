"""One active process per database: SQLite refuses a second one, PostgreSQL keeps it standing by."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import App
from bot.settings import load_settings
from bot.storage.db import create_engine
from bot.storage.leadership import AlreadyRunning, Leadership


async def test_sqlite_refuses_a_second_process_and_says_why(sqlite_url: str) -> None:
    settings = load_settings(None, **{"database.url": sqlite_url})
    first = await App.build(settings)
    try:
        with pytest.raises(AlreadyRunning, match="only one may run"):
            await App.build(settings)
    finally:
        await first.close()
    second = await App.build(settings)  # free again once the first is gone
    await second.close()


async def test_postgres_standby_takes_over_when_the_active_one_goes(postgres_url: str) -> None:
    url = postgres_url
    engines = [create_engine(url), create_engine(url)]
    active, standby = Leadership(engines[0], 0.2), Leadership(engines[1], 0.2)
    try:
        await active.acquire()
        waiting = asyncio.create_task(standby.acquire())
        await asyncio.sleep(1)
        assert not waiting.done()  # standing by
        assert await active.still_held()
        await active.release()  # as when the active process dies and its connection closes
        await asyncio.wait_for(waiting, 5)
        assert await standby.still_held()
    finally:
        await active.release()
        await standby.release()
        for engine in engines:
            await engine.dispose()
