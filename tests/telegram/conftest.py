from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import PEOPLE, LiveBot, register_people


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    api = FakeBotAPI(username="caseroom_test_bot")
    await api.serve()
    register_people(api)
    try:
        yield api
    finally:
        await api.close()


@pytest.fixture
async def live(fake: FakeBotAPI, tmp_path: Path) -> AsyncIterator[LiveBot]:
    bot = LiveBot(fake, tmp_path, [PEOPLE["alice"]])
    await bot.start()
    fake.start(PEOPLE["alice"])  # alice has a private chat with the bot: invitation links go there
    try:
        yield bot
    finally:
        await bot.stop()
