"""The outbox: nothing dropped, order kept within a room, one failing room does not hold the others."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.clock import FakeClock
from bot.delivery.outbox import DeliveryError, OutboxSender
from bot.domain.events import Effect, SendMessage, Target
from bot.storage.db import create_engine, session_factory
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
