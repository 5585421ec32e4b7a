"""Retention: message bodies are emptied once old enough (the rows stay, and keep doing their work), expired
dialogs go, and closed cases are erased when their time has come."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select

from bot.adapters.console import NETWORK
from bot.cli import main
from bot.core.retention import purge
from bot.domain.events import ReactionAdded, SendMessage, Target, TextMessage
from bot.settings import PrivacySettings
from bot.storage import models
from bot.storage.repo import Repo
from tests.conftest import START
from tests.harness import CASE_MANAGERS, Harness

KEEP = PrivacySettings(keep_messages_days=30)


async def payloads(h: Harness) -> tuple[dict[int, dict[str, object]], dict[int, dict[str, object]]]:
    """Inbox and outbox payloads by row id."""
    async with h.app.sessions() as session:
        inbox = {row.id: dict(row.payload) for row in await session.scalars(select(models.InboxRow))}
        outbox = {row.id: dict(row.payload) for row in await session.scalars(select(models.OutboxRow))}
    return inbox, outbox


async def test_old_bodies_are_emptied_young_and_waiting_ones_kept(harness: Harness) -> None:
    h = harness
    ref = await h.open_case()
    await h.team(ref)
    await h.one("alice", "!remind carers in 1 hour call the pharmacy", ref)
    fired = await h.advance(timedelta(hours=1))
    reminder_event = fired[0].event_id
    assert reminder_event is not None
    async with h.app.sessions.begin() as session:
        # A message for a network not running here stays unsent, and an event waits to be handled.
        await Repo(session).enqueue("matrix", Target(room_id="!r:x"), SendMessage("waiting to go"), START)
        await Repo(session).record_inbox(
            "matrix", "$pending", {"type": "TextMessage", "text": "waiting too"}, "pending", START
        )
    old_inbox, old_outbox = await payloads(h)
    h.clock.advance(timedelta(days=31))
    await h.say("alice", "!plan add Young item owner bob", ref)
    young_inbox, young_outbox = await payloads(h)
    young = (set(young_inbox) - set(old_inbox), set(young_outbox) - set(old_outbox))
    assert young[0] and young[1]

    done = await purge(h.app.sessions, KEEP, h.clock.now(), CASE_MANAGERS)
    inbox, outbox = await payloads(h)
    assert set(inbox) == set(young_inbox) and set(outbox) == set(young_outbox)  # no row deleted
    async with h.app.sessions() as session:
        waiting = await session.scalar(select(models.OutboxRow).where(models.OutboxRow.sent_at.is_(None)))
        pending = await session.scalar(select(models.InboxRow).where(models.InboxRow.status == "pending"))
    assert waiting is not None and waiting.payload["text"] == "waiting to go"
    assert pending is not None and pending.payload["text"] == "waiting too"
    emptied_in = [i for i in old_inbox if inbox[i] == {}]
    emptied_out = [i for i in old_outbox if outbox[i] == {}]
    assert len(emptied_in) == len(old_inbox) - 1 and len(emptied_out) == len(old_outbox) - 1
    assert done.inbox == len(emptied_in) and done.outbox == len(emptied_out)
    assert all(inbox[i] for i in young[0]) and all(outbox[i] for i in young[1])
    assert "Young item" in str([outbox[i] for i in young[1]])

    # The emptied rows still do their work: a reaction finds its reminder, a repeated event is not
    # handled twice.
    await h.event(ReactionAdded(NETWORK.name, uuid.uuid4().hex, ref, "carol", reminder_event, "✅"))
    assert "carol · acknowledged reminder 1" in await h.one("alice", "!history", ref)
    async with h.app.sessions() as session:
        first = await session.scalar(select(models.InboxRow).order_by(models.InboxRow.id).limit(1))
    assert first is not None and first.payload == {}
    again = TextMessage(NETWORK.name, first.event_id, ref, "alice", "!close again", False)
    assert await h.event(again) == []
    assert "Young item" in await h.one("alice", "!plan", ref)

    # A later run empties what became old since, and nothing twice.
    h.clock.advance(timedelta(days=31))
    later = await purge(h.app.sessions, KEEP, h.clock.now(), CASE_MANAGERS)
    assert later.outbox >= len(young[1]) and later.inbox >= len(young[0])
    inbox, outbox = await payloads(h)
    assert [i for i, p in outbox.items() if p] == [waiting.id]
    assert [i for i, p in inbox.items() if p] == [pending.id]


async def test_expired_dialogs_are_deleted(harness: Harness) -> None:
    h = harness
    assert "What short label" in await h.one("alice", "!case open")
    assert await h.count(models.Dialog) == 1
    assert (await purge(h.app.sessions, KEEP, h.clock.now())).dialogs == 0
    h.clock.advance(timedelta(hours=2))
    assert (await purge(h.app.sessions, KEEP, h.clock.now())).dialogs == 1
    assert await h.count(models.Dialog) == 0


async def test_closed_cases_are_erased_when_their_time_has_come(harness: Harness) -> None:
    h = harness
    settings = PrivacySettings(keep_messages_days=30, erase_closed_after_days=90)
    old = await h.open_case("Mrs D at home")
    await h.team(old)
    recent = await h.open_case("Family K")
    still_open = await h.open_case("Mr P")
    await h.say("alice", "!close moved away", old)
    h.clock.advance(timedelta(days=60))
    await h.say("alice", "!close done", recent)
    h.clock.advance(timedelta(days=31))
    assert (await purge(h.app.sessions, KEEP, h.clock.now(), CASE_MANAGERS)).erased == []  # no setting
    h.app.settings.privacy = settings
    done = await h.app.purge()
    assert done.erased == [old]
    assert "* case erased" in h.adapter.buffer.getvalue()  # the app sent what the erasure asked for
    async with h.app.sessions() as session:
        refs = set(await session.scalars(select(models.Case.ref)))
        handles = set(await session.scalars(select(models.User.handle)))
    assert refs == {recent, still_open}
    assert "dora" not in handles and "alice" in handles
    h.clock.advance(timedelta(days=60))
    assert (await h.app.purge()).erased == [recent]


def test_cli_purge_runs_once(db_url: str) -> None:
    async def build() -> None:
        h = await Harness.create(db_url, datetime.now(UTC) - timedelta(days=40))
        try:
            ref = await h.open_case()
            await h.team(ref)
        finally:
            await h.close()

    asyncio.run(build())
    result = CliRunner().invoke(main, ["purge", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "message bodies emptied" in result.output and not result.output.startswith("0 inbound")
    again = CliRunner().invoke(main, ["purge", "--db", db_url])
    assert again.exit_code == 0 and "0 inbound and 0 outbound" in again.output
