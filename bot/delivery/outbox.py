"""Deliver committed outbox rows in order, and mark them sent. A row's id is its transaction id."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.domain.events import (
    CreateCaseRoom,
    Effect,
    EraseRoom,
    LinkRoom,
    SendMessage,
    effect_from_json,
)
from bot.storage.models import OutboxRow
from bot.storage.repo import Repo

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The network failed for now: the row stays and is retried after `retry_after` seconds.

    A permanent refusal (the homeserver says the request itself is wrong) is not retried: the row is
    closed with its error, logged, so one bad row cannot block a room's queue.
    """

    def __init__(self, reason: str, retry_after: float = 5.0, permanent: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


class Transport(Protocol):
    network: str

    async def deliver(self, room_id: str | None, effect: Effect, txn_id: str) -> str | None:
        """Carry out one effect; CreateCaseRoom answers the new room's id, SendMessage the message's id."""


@runtime_checkable
class RoomRecovery(Protocol):
    """A transport that can find the room an earlier, unrecorded attempt of a CreateCaseRoom made."""

    async def recover_case_room(self, effect: CreateCaseRoom, txn_id: str) -> str | None:
        """The room created with this transaction id by the bot itself, or None: never a room found by
        name or made by anyone else."""


def txn_id(row_id: int) -> str:
    return f"caseroom-{row_id}"


def no_failpoint(name: str) -> None:
    """Production default: the named points of a send do nothing (the fault tests crash there)."""


class OutboxSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        clock: Clock,
        failpoint: Callable[[str], None] = no_failpoint,
    ) -> None:
        self._sessions = sessions
        self._transport = transport
        self._clock = clock
        self._lock = asyncio.Lock()
        self._failpoint = failpoint
        # A case's room, remembered instead of asked for each time. It changes only when a room is linked to
        # the case (a closed case's group given to another case), and the link goes through here.
        self._rooms: dict[int, str] = {}

    async def flush(self) -> float | None:
        """Deliver everything pending, in order within each room. A room whose send fails waits (its later
        rows too, so order holds); the other rooms go on. Returns None when all is sent, or the seconds
        to wait before the next try."""
        async with self._lock:
            blocked: set[str] = set()
            retry: float | None = None
            after = 0
            while True:
                async with self._sessions.begin() as session:
                    rows = list(await Repo(session).unsent(self._transport.network, 100, after))
                if not rows:
                    return retry
                for row in rows:
                    after = row.id
                    room = row.room_id or f"case:{row.case_id}"
                    if room in blocked:
                        continue
                    wait = await self._deliver(row)
                    if wait is not None:
                        blocked.add(room)
                        retry = wait if retry is None else min(retry, wait)
                if len(rows) < 100:
                    return retry

    async def _room_of(self, case_id: int) -> str | None:
        if case_id in self._rooms:
            return self._rooms[case_id]
        async with self._sessions.begin() as session:
            room_id = (await Repo(session).case_by_id(case_id)).room_id
        if room_id is not None:
            self._rooms[case_id] = room_id
        return room_id

    async def _room_coming(self, row: OutboxRow) -> bool:
        """Whether the room of the row's case is being created (an earlier creation not yet carried out)."""
        async with self._sessions.begin() as session:
            earlier = await session.scalars(
                select(OutboxRow).where(
                    OutboxRow.case_id == row.case_id, OutboxRow.id < row.id, OutboxRow.sent_at.is_(None)
                )
            )
            return any(r.payload.get("kind") == CreateCaseRoom.kind for r in earlier)

    async def _deliver(self, row: OutboxRow) -> float | None:
        effect = effect_from_json(row.payload)
        room_id = row.room_id
        if room_id is None and row.case_id is not None and not isinstance(effect, CreateCaseRoom):
            room_id = await self._room_of(row.case_id)
            if room_id is None and not await self._room_coming(row):
                # The case lost its room (the bot was removed from it) and none is being made: what was
                # for that room is given up, as the case managers were told, not kept waiting forever.
                async with self._sessions.begin() as session:
                    stored = await session.get(OutboxRow, row.id)
                    if stored is not None:
                        stored.sent_at = self._clock.now()
                        stored.last_error = "the case has no room"
                log.warning("outbox row %s given up: case %s has no room", row.id, row.case_id)
                return None
            if room_id is None:
                log.warning("outbox row %s waits for the room of case %s", row.id, row.case_id)
                return 5.0
        if isinstance(effect, SendMessage) and effect.link_case_id is not None:
            effect = replace(effect, link_room_id=await self._room_of(effect.link_case_id))
        self._fail("outbox.before_request", effect)
        try:
            if isinstance(effect, CreateCaseRoom):
                result = await self._create_room(row, effect)
            else:
                result = await self._transport.deliver(room_id, effect, txn_id(row.id))
        except DeliveryError as error:
            async with self._sessions.begin() as session:
                stored = await session.get(OutboxRow, row.id)
                if stored is not None:
                    if not isinstance(effect, CreateCaseRoom):  # a creation counted its attempt before
                        stored.attempts += 1
                    stored.last_error = str(error)[:500]
                    if error.permanent:
                        stored.sent_at = self._clock.now()
            if error.permanent:
                log.error("outbox row %s refused for good (%s); not retried", row.id, error)
                if row.room_id is None and row.case_id is not None:
                    self._rooms.pop(row.case_id, None)  # asked again next time: the case may have lost it
                return None
            log.warning("outbox row %s not delivered (%s); retry in %.1fs", row.id, error, error.retry_after)
            return error.retry_after
        self._fail("outbox.after_request", effect)
        async with self._sessions.begin() as session:
            repo = Repo(session)
            if isinstance(effect, CreateCaseRoom):
                stored = await session.get(OutboxRow, row.id)
                if stored is not None:
                    stored.sent_at = self._clock.now()
                if row.case_id is not None and result is not None:
                    (await repo.case_by_id(row.case_id)).room_id = result
            else:
                event_id = result if isinstance(effect, SendMessage) else None
                forget = isinstance(effect, EraseRoom)  # it names the people of an erased case
                await repo.mark_sent(row.id, self._clock.now(), event_id, forget)
        if isinstance(effect, CreateCaseRoom) and row.case_id is not None and result is not None:
            self._rooms[row.case_id] = result  # a case that lost its room was given a new one
        if isinstance(effect, LinkRoom) and row.case_id is not None:
            room = result or effect.room_id
            self._rooms = {case: known for case, known in self._rooms.items() if known != effect.room_id}
            self._rooms[row.case_id] = room
        self._fail("outbox.after_commit", effect)
        return None

    async def _create_room(self, row: OutboxRow, effect: CreateCaseRoom) -> str | None:
        """Create a case's room at most once, whatever crash comes between the request and the commit.

        The row is the database's record of the room being created: its transaction id goes into the
        room's state, and its `attempts` are committed before each request. A row that was attempted
        before may have made its room already: the transport looks for a room the bot itself created
        with this transaction id (never one found by name) and the row adopts only that one.
        """
        token = txn_id(row.id)
        if row.attempts > 0 and isinstance(self._transport, RoomRecovery):
            found = await self._transport.recover_case_room(effect, token)
            if found is not None:
                log.info(
                    "outbox row %s: the room of case %s was created before; recorded now", row.id, row.case_id
                )
                return found
        async with self._sessions.begin() as session:
            stored = await session.get(OutboxRow, row.id)
            if stored is not None:
                stored.attempts += 1
        return await self._transport.deliver(None, effect, token)

    def _fail(self, point: str, effect: Effect) -> None:
        """The fault tests crash at a point of any send (`outbox.after_request`) or of one effect kind
        only (`outbox.after_request:create_case_room`)."""
        self._failpoint(point)
        self._failpoint(f"{point}:{effect.kind}")
