"""Drive the real app (dispatcher, outbox, reminders) through the console adapter, with a clock we move."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.adapters.console import NETWORK, ConsoleAdapter
from bot.app import App
from bot.core.clock import FakeClock
from bot.domain.events import Event, SendFile, SendMessage, TextMessage
from bot.settings import load_settings
from bot.storage import models

CASE_MANAGERS = ["alice", "zoe"]


@dataclass(frozen=True)
class Msg:
    room: str
    text: str
    mentions: tuple[str, ...]
    event_id: str | None = None


class RecordingConsole(ConsoleAdapter):
    def __init__(self) -> None:
        self.buffer = io.StringIO()
        super().__init__(self.buffer, "test")
        self.messages: list[Msg] = []
        # Files the bot sent (exports), by room: kept here rather than written to disk.
        self.files: list[tuple[str, SendFile]] = []

    async def do_send_message(self, room_id: str | None, effect: SendMessage, txn_id: str) -> str | None:
        # CLDR puts narrow no-break spaces in times ("9:00\u202fAM"); tests compare with plain spaces.
        text = effect.text.replace("\u202f", " ").replace("\u00a0", " ")
        event_id = await super().do_send_message(room_id, effect, txn_id)
        self.messages.append(Msg(room_id or "?", text, effect.mentions, event_id))
        return event_id

    async def do_send_file(self, room_id: str | None, effect: SendFile, txn_id: str) -> str | None:
        self.files.append((room_id or "?", effect))
        return None


class Harness:
    def __init__(self, app: App, adapter: RecordingConsole, clock: FakeClock, db_url: str) -> None:
        self.app = app
        self.adapter = adapter
        self.clock = clock
        self.db_url = db_url

    @classmethod
    async def create(
        cls, db_url: str, now: datetime, timezone: str = "Europe/Paris", **more: object
    ) -> Harness:
        """`more`: further settings by dotted key (`**{"bot.organisation": "Hospital"}`)."""
        settings = load_settings(
            None,
            **{"database.url": db_url, "bot.case_managers": CASE_MANAGERS, "bot.timezone": timezone, **more},
        )
        clock = FakeClock(now)
        app = await App.build(settings, clock=clock)
        adapter = RecordingConsole()
        app.attach(NETWORK, adapter)
        await app.dispatcher.process_pending(NETWORK.name)
        await app.flush()
        return cls(app, adapter, clock, db_url)

    async def restart(self) -> Harness:
        """A new process on the same database, at the same moment."""
        await self.close()
        return await Harness.create(self.db_url, self.clock.now())

    async def close(self) -> None:
        await self.app.close()

    async def say(self, who: str, text: str, room: str | None = None) -> list[Msg]:
        """`who` writes `text` in their direct chat (room None) or in a case room; returns what came back."""
        before = len(self.adapter.messages)
        event = TextMessage(NETWORK.name, uuid.uuid4().hex, room or f"dm:{who}", who, text, room is None)
        await self.app.handle(event)
        while self.adapter.synthetic:
            await self.app.handle(self.adapter.synthetic.pop(0))
        return self.adapter.messages[before:]

    async def event(self, event: Event) -> list[Msg]:
        before = len(self.adapter.messages)
        await self.app.handle(event)
        return self.adapter.messages[before:]

    async def one(self, who: str, text: str, room: str | None = None) -> str:
        """The single answer to a message."""
        messages = await self.say(who, text, room)
        assert len(messages) == 1, messages
        return messages[0].text

    async def advance(self, delta: timedelta) -> list[Msg]:
        """Let time pass; returns the reminders that fell due."""
        before = len(self.adapter.messages)
        self.clock.advance(delta)
        await self.app.alarm.ring()
        return self.adapter.messages[before:]

    async def open_case(self, label: str = "Mrs D at home", who: str = "alice") -> str:
        messages = await self.say(who, f"!case open {label}")
        return next(m.room for m in messages if m.room.startswith("C-"))

    async def team(self, ref: str) -> None:
        """Invite a member of every role (with the person's consent to share the case, recorded first)."""
        await self.consent(ref, "team", "carers")
        await self.say("alice", "!invite bob as professional from Home nursing", ref)
        await self.say("alice", "!invite carol as carer", ref)
        await self.say("alice", "!invite dora as person", ref)
        await self.say("alice", "!invite olga as observer from District council", ref)

    async def consent(self, ref: str, *scopes: str) -> None:
        """alice records the person's consent to these scopes, as given on a signed paper form."""
        for scope in scopes:
            answer = await self.one("alice", f"!consent record {scope} given paper form signed", ref)
            assert "gave consent" in answer or "is already given" in answer, answer

    async def snapshot(self) -> dict[str, list[tuple[object, ...]]]:
        """Everything the bot has recorded about cases, except its own message queues."""
        tables: list[
            type[
                models.Case
                | models.Member
                | models.Need
                | models.PlanItem
                | models.ActionEntry
                | models.Reminder
                | models.User
                | models.Dialog
                | models.ConsentRecord
            ]
        ] = [
            models.Case,
            models.Member,
            models.Need,
            models.PlanItem,
            models.ActionEntry,
            models.Reminder,
            models.User,
            models.Dialog,
            models.ConsentRecord,
        ]
        result: dict[str, list[tuple[object, ...]]] = {}
        async with self.app.sessions() as session:
            for table in tables:
                rows = (await session.execute(select(table).order_by(table.id))).scalars().all()
                result[table.__tablename__] = [
                    tuple(getattr(r, c.key) for c in table.__table__.columns) for r in rows
                ]
        return result

    async def count(self, table: type[models.Base]) -> int:
        async with self.app.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(table)) or 0)
