"""Plan items and needs: finding them, changing them with a trace in the action log, and the due-day
follow-up that makes a due date mean something."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core import cases, reminders
from bot.core.context import Ctx, UserError
from bot.core.log import log_entry
from bot.core.render import status_name
from bot.domain.model import EntryKind, ItemStatus, MemberState, ReminderKind, Role, TargetKind
from bot.i18n import _
from bot.storage.models import Need, PlanItem, User


async def item(ctx: Ctx, number: int) -> PlanItem:
    found = await ctx.repo.numbered(PlanItem, ctx.require_case().id, number)
    if found is None:
        raise UserError(_("There is no plan item #{n} in this case. See !plan.", n=number))
    return found


async def need(ctx: Ctx, number: int) -> Need:
    found = await ctx.repo.numbered(Need, ctx.require_case().id, number)
    if found is None:
        raise UserError(_("There is no need {n} in this case. See !plan.", n=number))
    return found


async def owner(ctx: Ctx, handle: str) -> User:
    """A current member who may own a plan item: anyone but an observer."""
    case = ctx.require_case()
    user = await cases.find_user(ctx, handle)
    member = await ctx.repo.member(case.id, user.id) if user else None
    if user is None or member is None or member.state == MemberState.LEFT:
        raise UserError(_("{name} is not a member of this case. See !members.", name=handle))
    if member.role == Role.OBSERVER:
        raise UserError(_("{name} takes part as an observer and cannot own a plan item.", name=handle))
    return user


async def log_change(ctx: Ctx, plan_item: PlanItem | None, field: str, before: Any, after: Any) -> None:
    """Record who changed what on an item or a need, before and after (dates as ISO text, in UTC)."""

    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    await log_entry(
        ctx.repo,
        ctx.require_case().id,
        ctx.user.id,
        ctx.now,
        EntryKind.EDIT,
        item_id=plan_item.id if plan_item else None,
        detail=field,
        change={"before": plain(before), "after": plain(after)},
    )


async def schedule_due_followup(ctx: Ctx, plan_item: PlanItem, due_changed: bool = False) -> bool:
    """(Re)schedule the follow-up of the due day: the owner is asked at the due time, unless the item is
    done, blocked or cancelled, has no owner or no due date, its owner is no longer on the team, or the
    case manager turned it off. One already pending for the same owner stays as it is (its addressee may
    have snoozed it) unless the due date itself changed. Returns whether one is scheduled."""
    case = ctx.require_case()
    owner = await ctx.repo.member(case.id, plan_item.owner_id) if plan_item.owner_id is not None else None
    wanted = (
        plan_item.due_at is not None
        and owner is not None
        and owner.state != MemberState.LEFT
        and owner.role != Role.OBSERVER
        and plan_item.due_followup
        and plan_item.due_at > ctx.now
        and plan_item.status in (ItemStatus.PLANNED, ItemStatus.IN_PROGRESS)
    )
    pending = [
        r
        for r in await ctx.repo.pending_reminders(case.id)
        if r.item_id == plan_item.id and r.kind == ReminderKind.DUE
    ]
    if wanted and not due_changed and [r.target_user_id for r in pending] == [plan_item.owner_id]:
        return True  # already scheduled for this owner
    await ctx.repo.cancel_reminders(case.id, item_id=plan_item.id, kind=ReminderKind.DUE)
    if not wanted or plan_item.due_at is None or plan_item.owner_id is None:
        return False
    await reminders.create(
        ctx.repo,
        ctx.services,
        case,
        kind=ReminderKind.DUE,
        creator=ctx.user,
        target_kind=TargetKind.USER,
        target_user=await ctx.repo.user_by_id(plan_item.owner_id),
        item_id=plan_item.id,
        due_at=plan_item.due_at,
        zone=ctx.zone,
        now=ctx.now,
    )
    return True


async def set_status(ctx: Ctx, plan_item: PlanItem, status: ItemStatus, note: str) -> int:
    """Change an item's status and log it. Done and cancelled items end their follow-ups (returns how
    many); a blocked item gets no due-day follow-up until it moves again; a reopened one gets it back."""
    current = ItemStatus(plan_item.status)
    if current == status:
        raise UserError(
            _("Plan item #{n} is already {status}.", n=plan_item.number, status=status_name(current))
        )
    if not current.is_open and status is not ItemStatus.PLANNED:
        raise UserError(
            _(
                "Plan item #{n} is {status}; reopen it first with !plan reopen {n}.",
                n=plan_item.number,
                status=status_name(current),
            )
        )
    plan_item.status = status
    plan_item.updated_at = ctx.now
    await log_entry(
        ctx.repo,
        plan_item.case_id,
        ctx.user.id,
        ctx.now,
        EntryKind.STATUS,
        item_id=plan_item.id,
        detail=status,
        text=note,
    )
    await schedule_due_followup(ctx, plan_item)
    if status.is_open:
        return 0
    return await ctx.repo.cancel_reminders(
        plan_item.case_id, item_id=plan_item.id, kind=ReminderKind.FOLLOWUP
    )
