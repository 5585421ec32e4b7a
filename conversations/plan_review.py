"""The review walk-through: each open plan item in turn -> done, keep, or a new due date."""

from __future__ import annotations

from typing import Any

from bot.core import args, plan
from bot.core.context import Ctx
from bot.core.render import status_name
from bot.core.reviews import record_review
from bot.domain.model import ItemStatus
from bot.i18n import _, fmt_datetime, ngettext
from bot.storage.models import PlanItem


class PlanReview:
    name = "plan-review"
    command = "review start"

    async def start(self, ctx: Ctx, data: dict[str, Any]) -> str | None:
        case = ctx.require_case()
        numbers = [
            i.number for i in await ctx.repo.all_numbered(PlanItem, case.id) if ItemStatus(i.status).is_open
        ]
        data.update(items=numbers, index=0, done=0, kept=0, moved=0)
        if not numbers:
            await self._finish(ctx, data)
            return None
        intro = ngettext(
            "Plan review: {n} open item. For each, answer “done”, “keep”, or a new due date.",
            "Plan review: {n} open items. For each, answer “done”, “keep”, or a new due date.",
            len(numbers),
        )
        await ctx.reply(intro + "\n" + await self._question(ctx, data))
        return "item"

    async def _item(self, ctx: Ctx, data: dict[str, Any]) -> PlanItem:
        return await plan.item(ctx, int(data["items"][data["index"]]))

    async def _question(self, ctx: Ctx, data: dict[str, Any]) -> str:
        item = await self._item(ctx, data)
        due = fmt_datetime(item.due_at) if item.due_at else _("no due date")
        return f"#{item.number} {item.text} ({status_name(item.status)}, {due})"

    async def step(self, ctx: Ctx, state: str, data: dict[str, Any], text: str) -> str | None:
        item = await self._item(ctx, data)
        answer = text.strip().lower()
        if answer in ("done", _("done").lower()):
            await plan.set_status(ctx, item, ItemStatus.DONE, "")
            data["done"] += 1
        elif answer in ("keep", _("keep").lower()):
            data["kept"] += 1
        else:
            due = args.when(ctx, text)
            await plan.log_change(ctx, item, "due", item.due_at, due)
            item.due_at = due
            item.updated_at = ctx.now
            await plan.schedule_due_followup(ctx, item, due_changed=True)
            data["moved"] += 1
        data["index"] += 1
        if data["index"] >= len(data["items"]):
            await self._finish(ctx, data)
            return None
        await ctx.reply(await self._question(ctx, data))
        return "item"

    async def _finish(self, ctx: Ctx, data: dict[str, Any]) -> None:
        summary = _(
            "{done} done, {kept} kept, {moved} rescheduled.",
            done=data["done"],
            kept=data["kept"],
            moved=data["moved"],
        )
        when = await record_review(ctx, summary)
        text = _("Review recorded: {summary}", summary=summary)
        if when is not None:
            text += " " + _("The next one is on {when}.", when=fmt_datetime(when))
        await ctx.reply(text)
