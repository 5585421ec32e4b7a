"""Running multi-step dialogs: their state is a database row keyed by network, room and user."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.core.context import Ctx
from bot.storage.models import Dialog


def _expiry(ctx: Ctx) -> datetime:
    return ctx.now + timedelta(minutes=ctx.services.settings.dialog_timeout_minutes)


async def start_dialog(ctx: Ctx, name: str, data: dict[str, Any] | None = None) -> None:
    existing = await ctx.repo.dialog(ctx.network, ctx.room_id, ctx.user.id)
    if existing is not None:
        await ctx.repo.delete(existing)
    values: dict[str, Any] = dict(data or {})
    state = await ctx.services.dialogs[name].start(ctx, values)
    if state is not None:
        await ctx.repo.add(
            Dialog(
                network=ctx.network,
                room_id=ctx.room_id,
                user_id=ctx.user.id,
                name=name,
                state=state,
                data=values,
                expires_at=_expiry(ctx),
            )
        )


async def continue_dialog(ctx: Ctx, row: Dialog, text: str) -> None:
    data: dict[str, Any] = dict(row.data)
    state = await ctx.services.dialogs[row.name].step(ctx, row.state, data, text)
    if state is None:
        await ctx.repo.delete(row)
    else:
        row.state = state
        row.data = data
        row.expires_at = _expiry(ctx)
