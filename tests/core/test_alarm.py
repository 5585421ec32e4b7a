"""The alarm on the real clock: a reminder set by a command rings on time by itself, without waiting for
the safety-net poll, also when an alarm is already set for later."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.adapters.console import NETWORK
from bot.app import App
from bot.core import reminders
from bot.domain.events import TextMessage
from bot.domain.model import ReminderKind, ReminderStatus, TargetKind
from bot.settings import load_settings
from bot.storage import models
from bot.storage.repo import Repo
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
        if any("Reminder: call the GP" in m.text for m in adapter.messages):
            break
        await asyncio.sleep(0.1)
    # Personal reminders come to the direct chat.
    reminders = [(m.room, m.text) for m in adapter.messages if "Reminder:" in m.text]
    assert reminders == [
        ("dm:alice", "C-2026-0001 · Reminder: call the GP (reminder 2: !snooze 2 <when> moves it)")
    ]


async def test_reminders_falling_due_while_it_rings_are_not_left_for_the_poll(
    running: tuple[App, RecordingConsole],
) -> None:
    """200 reminders 10 ms apart: each ring takes longer than that, so the alarm is always re-set for a
    time already reached while the ring that sets it is still running. They all arrive within seconds,
    not at the next (hourly) poll."""
    app, adapter = running
    await _say(app, adapter, "dm:alice", "!case open Mr B")
    ref = next(m.room for m in adapter.messages if m.room.startswith("C-"))
    now = datetime.now(UTC)
    async with app.sessions.begin() as session:
        case = (await session.scalars(select(models.Case).where(models.Case.ref == ref))).one()
        alice = (await session.scalars(select(models.User).where(models.User.handle == "alice"))).one()
        session.add_all(
            models.Reminder(
                case_id=case.id,
                number=100 + n,
                kind=ReminderKind.REMINDER,
                created_by=alice.id,
                target_kind=TargetKind.USER,
                target_user_id=alice.id,
                text=f"burst {n}",
                due_at=now + timedelta(seconds=1, milliseconds=10 * n),
                timezone="UTC",
                status=ReminderStatus.PENDING,
                fired_count=0,
                created_at=now,
            )
            for n in range(200)
        )
    app.services.wake_at(now + timedelta(seconds=1))
    for _ in range(150):
        if sum("burst" in m.text for m in adapter.messages) == 200:
            break
        await asyncio.sleep(0.1)
    delivered = [m.text.split("burst ", 1)[1].split(" ", 1)[0] for m in adapter.messages if "burst" in m.text]
    assert delivered == [str(n) for n in range(200)]


async def test_a_ring_that_fails_is_tried_again_soon(
    running: tuple[App, RecordingConsole], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, adapter = running
    await _say(app, adapter, "dm:alice", "!case open Mr B")
    ref = next(m.room for m in adapter.messages if m.room.startswith("C-"))
    real_fire_due = reminders.fire_due
    failures: list[bool] = []

    async def fails_once(*args: Any, **kwargs: Any) -> int:
        if not failures:
            failures.append(True)
            raise OperationalError("SELECT ...", {}, Exception("database is locked"))
        fired: int = await real_fire_due(*args, **kwargs)
        return fired

    monkeypatch.setattr(reminders, "fire_due", fails_once)
    await _say(app, adapter, ref, "!remind me in 1 second call the GP")
    for _ in range(150):
        if any("Reminder: call the GP" in m.text for m in adapter.messages):
            break
        await asyncio.sleep(0.1)
    assert failures == [True]
    assert [m.text for m in adapter.messages if "Reminder: call the GP" in m.text] == [
        "C-2026-0001 · Reminder: call the GP (reminder 1: !snooze 1 <when> moves it)"
    ]


async def test_a_reminder_scheduled_while_the_alarm_reads_the_next_one_is_not_overridden(
    running: tuple[App, RecordingConsole], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command schedules a reminder (and wakes the alarm) while the alarm is reading the next due time;
    that read did not see it yet. The later time read must not replace the earlier one."""
    app, adapter = running
    await _say(app, adapter, "dm:alice", "!case open Mr B")
    ref = next(m.room for m in adapter.messages if m.room.startswith("C-"))
    now = datetime.now(UTC)
    due = now + timedelta(seconds=1)
    async with app.sessions.begin() as session:
        case = (await session.scalars(select(models.Case).where(models.Case.ref == ref))).one()
        alice = (await session.scalars(select(models.User).where(models.User.handle == "alice"))).one()
        session.add(
            models.Reminder(
                case_id=case.id,
                number=1,
                kind=ReminderKind.REMINDER,
                created_by=alice.id,
                target_kind=TargetKind.USER,
                target_user_id=alice.id,
                text="call the GP",
                due_at=due,
                timezone="UTC",
                status=ReminderStatus.PENDING,
                fired_count=0,
                created_at=now,
            )
        )

    async def stale_read(self: Repo) -> datetime:
        app.services.wake_at(due)  # the command commits and wakes the alarm meanwhile
        return now + timedelta(hours=1)

    monkeypatch.setattr(Repo, "earliest_due", stale_read)
    await app.alarm.rearm()
    for _ in range(100):
        if any("Reminder: call the GP" in m.text for m in adapter.messages):
            break
        await asyncio.sleep(0.1)
    assert [m.text for m in adapter.messages if "Reminder: call the GP" in m.text] == [
        "C-2026-0001 · Reminder: call the GP (reminder 1: !snooze 1 <when> moves it)"
    ]
