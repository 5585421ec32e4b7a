"""What every adapter provides: one `do_<kind>` method per effect type (a test checks none is missing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain.events import Effect, Event

Inbound = Callable[[Event], Awaitable[None]]


def effect_method(effect_type: type[Effect]) -> str:
    return f"do_{effect_type.kind}"


class EffectDispatch:
    """Routes an effect to the adapter's `do_<kind>(room_id, effect, txn_id)` method."""

    network: str

    async def deliver(self, room_id: str | None, effect: Effect, txn_id: str) -> str | None:
        method: Callable[[str | None, Any, str], Awaitable[str | None]] = getattr(
            self, effect_method(type(effect))
        )
        return await method(room_id, effect, txn_id)
