"""The outbox: nothing dropped, order kept within a room, one failing room does not hold the others."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.clock import FakeClock
from bot.delivery.outbox import DeliveryError, OutboxSender
from bot.domain.events import CreateCaseRoom, Effect, SendMessage, Target
from bot.domain.model import CaseStatus
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Case
from bot.storage.repo import Repo


class FlakyNetwork:
    network = "console"

    def __init__(self, failures: dict[str, int], permanent: set[str] | None = None) -> None:
        self.failures = dict(failures)
        self.permanent = permanent or set()
        self.delivered: list[tuple[str, str, str]] = []

    async def deliver(self, room_id: str | None, effect: Effect, txn_id: str) -> str | None:
        assert room_id is not None and isinstance(effect, SendMessage)
        if effect.text in self.permanent:
            raise DeliveryError("M_FORBIDDEN", permanent=True)
        if self.failures.get(room_id, 0) > 0:
            self.failures[room_id] -= 1
            raise DeliveryError("M_LIMIT_EXCEEDED", retry_after=0.25)
        self.delivered.append((room_id, effect.text, txn_id))
        return f"${txn_id}"


async def _enqueue(url: str, messages: list[tuple[str, str]]) -> None:
    engine = create_engine(url)
    async with session_factory(engine).begin() as session:
        for room, text in messages:
            await Repo(session).enqueue("console", Target(room_id=room), SendMessage(text), datetime.now(UTC))
    await engine.dispose()


async def test_rate_limited_room_keeps_its_order_and_others_go_on(db_url: str) -> None:
    messages = [(room, f"{room}-{n}") for n in range(5) for room in ("a", "b")]
    await _enqueue(db_url, messages)
    engine = create_engine(db_url)
    network = FlakyNetwork({"a": 2})
    sender = OutboxSender(session_factory(engine), network, FakeClock(datetime.now(UTC)))
    assert await sender.flush() == 0.25  # room a asked to wait
    assert [t for r, t, _ in network.delivered if r == "b"] == [f"b-{n}" for n in range(5)]
    assert [t for r, t, _ in network.delivered if r == "a"] == []
    assert await sender.flush() == 0.25
    assert await sender.flush() is None
    assert [t for r, t, _ in network.delivered if r == "a"] == [f"a-{n}" for n in range(5)]
    assert len(network.delivered) == 10
    assert await sender.flush() is None and len(network.delivered) == 10  # nothing twice
    await engine.dispose()


async def test_a_permanently_refused_row_does_not_block_its_room(db_url: str) -> None:
    await _enqueue(db_url, [("a", "one"), ("a", "refused"), ("a", "three")])
    engine = create_engine(db_url)
    network = FlakyNetwork({}, permanent={"refused"})
    sender = OutboxSender(session_factory(engine), network, FakeClock(datetime.now(UTC)))
    assert await sender.flush() is None
    assert [t for _r, t, _ in network.delivered] == ["one", "three"]
    await engine.dispose()


class Crash(Exception):
    """Stands for the SIGKILL of the fault tests: the process stops at a failpoint."""


class RoomMaker:
    """A network that creates rooms and, like Matrix, finds the room a creation token made."""

    network = "console"

    def __init__(self, refuse_first: bool = False) -> None:
        self.made: dict[str, str] = {}  # creation token -> room
        self.requests = 0
        self.recoveries: list[str] = []
        self.refuse_first = refuse_first

    async def deliver(self, room_id: str | None, effect: Effect, txn_id: str) -> str | None:
        assert isinstance(effect, CreateCaseRoom)
        self.requests += 1
        if self.refuse_first and self.requests == 1:
            raise DeliveryError("timeout", retry_after=0.01)  # no room made, or none we heard of
        self.made[txn_id] = f"!room{len(self.made) + 1}"
        return self.made[txn_id]

    async def recover_case_room(self, effect: CreateCaseRoom, txn_id: str) -> str | None:
        self.recoveries.append(txn_id)
        return self.made.get(txn_id)


async def _case_to_create(url: str) -> int:
    engine = create_engine(url)
    now = datetime.now(UTC)
    async with session_factory(engine).begin() as session:
        repo = Repo(session)
        user = await repo.ensure_user("console", "alice", now)
        await session.flush()
        case = Case(
            ref="C-2026-0001", label="Mrs D", network="console", room_id=None, status=CaseStatus.OPEN,
            language="en", created_by=user.id, created_at=now,
        )  # fmt: skip
        session.add(case)
        await session.flush()
        effect = CreateCaseRoom("C-2026-0001", "C-2026-0001 · Mrs D", "topic", ("alice",), ("alice",))
        await repo.enqueue("console", Target(case_id=case.id), effect, now)
        case_id = case.id
    await engine.dispose()
    return case_id


async def _room_and_row(url: str, case_id: int) -> tuple[str | None, bool]:
    engine = create_engine(url)
    async with session_factory(engine).begin() as session:
        room = (await Repo(session).case_by_id(case_id)).room_id
        unsent = list(await Repo(session).unsent("console", 10))
    await engine.dispose()
    return room, not unsent


async def test_a_room_created_just_before_a_crash_is_recorded_on_restart_not_made_again(db_url: str) -> None:
    case_id = await _case_to_create(db_url)
    network = RoomMaker()

    def crash(point: str) -> None:
        if point == "outbox.after_request:create_case_room":
            raise Crash(point)

    engine = create_engine(db_url)
    first = OutboxSender(session_factory(engine), network, FakeClock(datetime.now(UTC)), crash)
    with pytest.raises(Crash):
        await first.flush()
    assert network.requests == 1 and network.recoveries == []  # a first attempt has nothing to look for
    assert await _room_and_row(db_url, case_id) == (None, False)
    restarted = OutboxSender(session_factory(engine), network, FakeClock(datetime.now(UTC)))
    assert await restarted.flush() is None
    assert network.requests == 1 and network.recoveries == ["caseroom-1"]
    assert await _room_and_row(db_url, case_id) == ("!room1", True)
    await engine.dispose()


async def test_a_retried_creation_that_made_no_room_makes_exactly_one(db_url: str) -> None:
    case_id = await _case_to_create(db_url)
    network = RoomMaker(refuse_first=True)
    engine = create_engine(db_url)
    sender = OutboxSender(session_factory(engine), network, FakeClock(datetime.now(UTC)))
    assert await sender.flush() == 0.01
    assert await sender.flush() is None
    assert network.requests == 2 and network.recoveries == ["caseroom-1"]
    assert list(network.made.values()) == ["!room1"]
    assert await _room_and_row(db_url, case_id) == ("!room1", True)
    await engine.dispose()
