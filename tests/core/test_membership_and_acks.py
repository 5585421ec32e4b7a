"""Who the bot talks to in direct chats, and acknowledging reminders with a reaction."""

from __future__ import annotations

import uuid
from datetime import timedelta

from bot.domain.events import BotInvited, ReactionAdded
from bot.storage import models
from tests.harness import Harness


def _id() -> str:
    return uuid.uuid4().hex


async def test_bot_joins_direct_chats_of_known_people_only(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    assert (
        await harness.event(BotInvited("console", _id(), "dm-1", "alice", is_direct=True)) == []
    )  # joins, quietly
    assert await harness.event(BotInvited("console", _id(), "dm-2", "carol", is_direct=True)) == []
    left = await harness.event(BotInvited("console", _id(), "dm-3", "mallory", is_direct=True))
    assert [m.text for m in left] == []
    assert "* the bot leaves" in harness.adapter.buffer.getvalue()
    await harness.one("alice", "!remove carol", ref)
    await harness.event(BotInvited("console", _id(), "dm-4", "carol", is_direct=True))
    assert harness.adapter._out.getvalue().count("* the bot leaves") == 2  # type: ignore[attr-defined]


async def test_a_check_mark_acknowledges_a_reminder_once(harness: Harness) -> None:
    ref = await harness.open_case()
    await harness.team(ref)
    await harness.one("alice", "!remind carers in 1 hour call the pharmacy", ref)
    fired = await harness.advance(timedelta(hours=1))
    assert len(fired) == 1 and fired[0].event_id
    reminder_event = fired[0].event_id
    assert reminder_event is not None
    await harness.event(ReactionAdded("console", _id(), ref, "mallory", reminder_event, "✅"))  # not a member
    await harness.event(
        ReactionAdded("console", _id(), ref, "carol", reminder_event, "👍")
    )  # not a check mark
    assert "acknowledged" not in await harness.one("alice", "!history", ref)
    await harness.event(ReactionAdded("console", _id(), ref, "carol", reminder_event, "✅️"))
    await harness.event(ReactionAdded("console", _id(), ref, "bob", reminder_event, "✅"))
    history = await harness.one("alice", "!history", ref)
    assert "carol · acknowledged reminder 1" in history and "bob · acknowledged" not in history
    async with harness.app.sessions() as session:
        row = (
            await session.execute(
                models.OutboxRow.__table__.select().where(models.OutboxRow.network_event_id == reminder_event)
            )
        ).one()
    assert row.acknowledged_at is not None
