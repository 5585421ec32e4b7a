"""Plan items: finding them, and changing their status with a trace in the action log."""

from __future__ import annotations

from bot.core.context import Ctx, UserError
from bot.core.render import status_name
from bot.domain.model import EntryKind, ItemStatus, ReminderKind
from bot.i18n import _
from bot.storage.models import ActionEntry, PlanItem


async def item(ctx: Ctx, number: int) -> PlanItem:
    found = await ctx.repo.numbered(PlanItem, ctx.require_case().id, number)
    if found is None:
        raise UserError(_("There is no plan item #{n} in this case. See !plan.", n=number))
    return found


async def set_status(ctx: Ctx, plan_item: PlanItem, status: ItemStatus, note: str) -> int:
    """Change an open item's status and log it; a closed item ends its follow-ups (returns how many)."""
    if not ItemStatus(plan_item.status).is_open or plan_item.status == status:
        raise UserError(
            _("Plan item #{n} is already {status}.", n=plan_item.number, status=status_name(plan_item.status))
        )
    plan_item.status = status
    plan_item.updated_at = ctx.now
    await ctx.repo.add(
        ActionEntry(
            case_id=plan_item.case_id,
            item_id=plan_item.id,
            author_id=ctx.user.id,
            kind=EntryKind.STATUS,
            detail=status,
            text=note,
            created_at=ctx.now,
        )
    )
    if status.is_open:
        return 0
    return await ctx.repo.cancel_reminders(
        plan_item.case_id, item_id=plan_item.id, kind=ReminderKind.FOLLOWUP
    )
