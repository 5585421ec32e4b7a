"""The alarm on the real clock: a reminder set by a command rings on time by itself, without waiting for
the safety-net poll, also when an alarm is already set for later."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.adapters.console import NETWORK
from bot.app import App
from bot.domain.events import TextMessage
from bot.settings import load_settings
from tests.harness import RecordingConsole


@pytest.fixture
async def running(sqlite_url: str) -> AsyncIterator[tuple[App, RecordingConsole]]:
    settings = load_settings(None, **{"database.url": sqlite_url, "bot.case_managers": ["alice"]})
    # An hourly poll: anything that arrives within seconds was woken by the alarm, not found by the poll.
    app = await App.build(settings, poll_seconds=3600)
    adapter = RecordingConsole()
    app.attach(NETWORK, adapter)
    await app.start()
    yield app, adapter
    await app.close()


async def _say(app: App, adapter: RecordingConsole, room: str, text: str) -> None:
    await app.handle(TextMessage(NETWORK.name, uuid.uuid4().hex, room, "alice", text, room.startswith("dm:")))
    while adapter.synthetic:  # the console's own events: the opener joining the new room
        await app.handle(adapter.synthetic.pop(0))


async def test_a_reminder_due_in_seconds_rings_before_one_due_later(
    running: tuple[App, RecordingConsole],
) -> None:
    app, adapter = running
    await _say(app, adapter, "dm:alice", "!case open Mr B")
    ref = next(m.room for m in adapter.messages if m.room.startswith("C-"))
    await _say(app, adapter, ref, "!remind me in 1 hour call the pharmacy")
    await _say(app, adapter, ref, "!remind me in 2 seconds call the GP")
    for _ in range(100):
        if any("call the GP" in m.text for m in adapter.messages):
            break
        await asyncio.sleep(0.1)
    reminders = [m.text for m in adapter.messages if m.text.startswith("alice: Reminder")]
    assert reminders == ["alice: Reminder: call the GP"]
