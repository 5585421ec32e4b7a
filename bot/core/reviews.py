"""The review (reassessment) of a case: recording one and scheduling the next, for the command and the
walk-through alike."""

from __future__ import annotations

from datetime import datetime

from bot.core import reminders
from bot.core.context import Ctx
from bot.core.log import log_entry
from bot.domain.model import EntryKind, Interval, ReminderKind


async def record_review(ctx: Ctx, note: str) -> datetime | None:
    """Record a review as done and schedule the next one from the case's cycle (None: no cycle set)."""
    case = ctx.require_case()
    await log_entry(ctx.repo, case.id, ctx.user.id, ctx.now, EntryKind.REVIEW, text=note)
    if case.review_interval:
        when = reminders.review_date(ctx.now, Interval.decode(case.review_interval), ctx.zone)
        await reminders.schedule_review(ctx.repo, ctx.services, case, ctx.user, when, ctx.zone, ctx.now)
        return when
    await ctx.repo.cancel_reminders(case.id, kind=ReminderKind.REVIEW)
    case.next_review_at = None
    return None
