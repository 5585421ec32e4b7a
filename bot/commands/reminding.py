"""Reminders, follow-ups, the review cycle, and closing the case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.commands import args
from bot.commands.registry import Command
from bot.core import cases, plan
from bot.core import reminders as core
from bot.core.context import Ctx, UserError
from bot.core.dialogs import start_dialog
from bot.core.render import describe_interval
from bot.core.when import first_occurrence
from bot.domain.model import (
    EntryKind,
    Interval,
    ItemStatus,
    ReminderKind,
    ReminderStatus,
    Role,
    TargetKind,
)
from bot.i18n import N_, _, fmt_datetime
from bot.storage.models import ActionEntry, Reminder, User


@dataclass(frozen=True)
class RemindArgs:
    target: str
    when: datetime | None
    every: Interval | None
    text: str


def parse_remind(ctx: Ctx, rest: str) -> RemindArgs:
    words = rest.split()
    if len(words) < 3:
        raise args.UsageError(_("Tell me whom to remind, when, and of what."))
    target = words[0]
    if words[1].lower() == "every":
        every, text_words = args.longest_interval_prefix(ctx, words[2:])
        when = None
    else:
        when, text_words = args.longest_when_prefix(ctx, words[1:])
        every = None
    return RemindArgs(target, when, every, args.free_text(" ".join(text_words), _("reminder text")))


async def run_remind(ctx: Ctx, a: RemindArgs) -> None:
    case = ctx.require_case()
    target_user: User | None = None
    target_role: Role | None = None
    word = a.target.lower()
    if word == "me":
        kind, target_user = TargetKind.USER, ctx.user
    elif ctx.role in (Role.PERSON, Role.CARER):
        raise UserError(_("You can set reminders for yourself: !remind me <when> <text>."))
    elif word == "room":
        kind = TargetKind.ROOM
    elif (role := Role.from_plural(word)) is not None:
        kind, target_role = TargetKind.ROLE, role
    else:
        if not ctx.net.user_id_pattern.fullmatch(a.target):
            raise args.UsageError(
                _(
                    "Remind whom? Use me, room, a member, or a role in the plural: {roles}.",
                    roles=", ".join(r.plural for r in Role),
                )
            )
        kind, target_user = TargetKind.USER, (await cases.member(ctx, a.target))[0]
    if a.every is not None:
        due = first_occurrence(a.every, ctx.zone, ctx.now)
    else:
        assert a.when is not None
        due = a.when
    reminder = await core.create(
        ctx.repo,
        ctx.services,
        case,
        kind=ReminderKind.REMINDER,
        creator=ctx.user,
        target_kind=kind,
        target_user=target_user,
        target_role=target_role,
        text=a.text,
        due_at=due,
        zone=ctx.zone,
        now=ctx.now,
        interval=a.every,
    )
    text = _("Reminder {id} set for {when}.", id=reminder.number, when=fmt_datetime(due))
    if a.every is not None:
        text += " " + _("Repeats {interval}.", interval=describe_interval(a.every))
    await ctx.reply(text)


@dataclass(frozen=True)
class FollowupArgs:
    item: int
    when: datetime


def parse_followup(ctx: Ctx, rest: str) -> FollowupArgs:
    words = rest.split(maxsplit=1)
    if len(words) < 2:
        raise args.UsageError(_("Give the plan item and when to follow up."))
    return FollowupArgs(args.number(words[0], _("plan item")), args.when(ctx, words[1]))


async def run_followup(ctx: Ctx, a: FollowupArgs) -> None:
    case = ctx.require_case()
    item = await plan.item(ctx, a.item)
    if not ItemStatus(item.status).is_open:
        raise UserError(_("Plan item #{n} is already closed; there is nothing to follow up.", n=a.item))
    if item.owner_id is None:
        raise UserError(_("Plan item #{n} has no owner to follow up with.", n=a.item))
    owner, _member = await cases.member(ctx, (await ctx.repo.user_by_id(item.owner_id)).handle)
    reminder = await core.create(
        ctx.repo,
        ctx.services,
        case,
        kind=ReminderKind.FOLLOWUP,
        creator=ctx.user,
        target_kind=TargetKind.USER,
        target_user=owner,
        item_id=item.id,
        due_at=a.when,
        zone=ctx.zone,
        now=ctx.now,
    )
    await ctx.reply(
        _(
            "Follow-up {id}: I will ask {name} about #{n} on {when}.",
            id=reminder.number,
            name=owner.handle,
            n=item.number,
            when=fmt_datetime(a.when),
        )
    )


async def run_review_every(ctx: Ctx, interval: Interval) -> None:
    case = ctx.require_case()
    case.review_interval = interval.encode()
    when = core.review_date(ctx.now, interval, ctx.zone)
    await core.schedule_review(ctx.repo, ctx.services, case, ctx.user, when, ctx.zone, ctx.now)
    await ctx.reply(
        _(
            "Reviews {interval}; the next one is on {when}. Case managers are reminded 7 days before "
            "and on the day.",
            interval=describe_interval(interval),
            when=fmt_datetime(when),
        )
    )


async def run_review_on(ctx: Ctx, when: datetime) -> None:
    case = ctx.require_case()
    await core.schedule_review(ctx.repo, ctx.services, case, ctx.user, when, ctx.zone, ctx.now)
    await ctx.reply(
        _(
            "The next review is on {when}. Case managers are reminded 7 days before and on the day.",
            when=fmt_datetime(when),
        )
    )


async def record_review(ctx: Ctx, note: str) -> datetime | None:
    """Record a review as done and schedule the next one from the case's cycle; used by the dialog too."""
    case = ctx.require_case()
    await ctx.repo.add(
        ActionEntry(
            case_id=case.id,
            item_id=None,
            author_id=ctx.user.id,
            kind=EntryKind.REVIEW,
            detail=None,
            text=note,
            created_at=ctx.now,
        )
    )
    if case.review_interval:
        when = core.review_date(ctx.now, Interval.decode(case.review_interval), ctx.zone)
        await core.schedule_review(ctx.repo, ctx.services, case, ctx.user, when, ctx.zone, ctx.now)
        return when
    await ctx.repo.cancel_reminders(case.id, kind=ReminderKind.REVIEW)
    case.next_review_at = None
    return None


async def run_review_done(ctx: Ctx, note: str) -> None:
    when = await record_review(ctx, note)
    if when is None:
        await ctx.reply(_("Review recorded. No cycle is set; plan the next one with !review on <date>."))
    else:
        await ctx.reply(_("Review recorded. The next one is on {when}.", when=fmt_datetime(when)))


async def run_review_start(ctx: Ctx, _none: None) -> None:
    await start_dialog(ctx, "plan-review")


async def run_reminders(ctx: Ctx, _none: None) -> None:
    case = ctx.require_case()
    pending = await ctx.repo.pending_reminders(case.id)
    if not pending:
        await ctx.reply(_("No reminders are pending."))
        return
    users = {
        uid: await ctx.repo.user_by_id(uid) for uid in {r.target_user_id for r in pending} if uid is not None
    }
    lines = [_("Pending reminders:")]
    for reminder in pending:
        if reminder.kind == ReminderKind.REVIEW:
            what = _("review")
        elif reminder.kind == ReminderKind.FOLLOWUP:
            item = await ctx.repo.item_by_id(reminder.item_id) if reminder.item_id else None
            what = _("follow-up on #{n}", n=item.number if item else "?")
        else:
            what = reminder.text or ""
        target = core.describe_target(reminder, users)
        line = f"{reminder.number} · {fmt_datetime(reminder.due_at)} · {target} · {what}"
        if reminder.interval:
            line += f" ({describe_interval(Interval.decode(reminder.interval))})"
        lines.append(line)
    await ctx.reply("\n".join(lines))


def parse_reminder_number(ctx: Ctx, rest: str) -> int:
    words = rest.split()
    if len(words) != 1:
        raise args.UsageError(_("Give one reminder number."))
    return args.number(words[0], _("reminder"))


async def run_cancel(ctx: Ctx, number: int) -> None:
    case = ctx.require_case()
    reminder = await ctx.repo.numbered(Reminder, case.id, number)
    if reminder is None or reminder.status != ReminderStatus.PENDING:
        raise UserError(_("There is no pending reminder {n}. See !reminders.", n=number))
    if ctx.role is not Role.CASE_MANAGER and reminder.created_by != ctx.user.id:
        raise UserError(_("Only the case manager or whoever set it can cancel reminder {n}.", n=number))
    reminder.status = ReminderStatus.CANCELLED
    await ctx.reply(_("Reminder {n} cancelled.", n=number))


def parse_note(ctx: Ctx, rest: str) -> str:
    return args.free_text(rest, _("note")) if rest.strip() else ""


def parse_reason(ctx: Ctx, rest: str) -> str:
    return args.free_text(rest, _("reason for closing"))


async def run_close(ctx: Ctx, reason: str) -> None:
    await cases.close(ctx, reason)


def commands() -> list[Command[Any]]:
    return [
        Command(
            "remind",
            N_("<me|room|user|role> <when> <text>"),
            N_(
                "Set a reminder, e.g. !remind carers tomorrow 9:00 bring the medication list, or "
                "!remind me every monday 9:00 weigh-in. Roles in the plural: carers, professionals..."
            ),
            parse_remind,
            run_remind,
            writes=True,
        ),
        Command(
            "followup",
            N_("#<n> <when>"),
            N_("Remind a plan item's owner to report on it."),
            parse_followup,
            run_followup,
            writes=True,
        ),
        Command(
            "review every",
            N_("<interval>"),
            N_("Set the review cycle, e.g. 3 months."),
            args.interval,
            run_review_every,
            writes=True,
        ),
        Command(
            "review on",
            N_("<date>"),
            N_("Set the date of the next review."),
            args.when,
            run_review_on,
            writes=True,
        ),
        Command(
            "review done",
            N_("[note]"),
            N_("Record that the review took place; schedules the next one."),
            parse_note,
            run_review_done,
            writes=True,
        ),
        Command(
            "review start",
            "",
            N_("Walk through each open plan item: done, keep, or a new due date."),
            args.no_args,
            run_review_start,
            writes=True,
        ),
        Command("reminders", "", N_("List the pending reminders."), args.no_args, run_reminders),
        Command(
            "cancel",
            N_("<id>"),
            N_("Cancel a pending reminder."),
            parse_reminder_number,
            run_cancel,
            writes=True,
        ),
        Command(
            "close",
            N_("<reason>"),
            N_("Close the case: pending reminders are cancelled, a summary is posted."),
            parse_reason,
            run_close,
            writes=True,
        ),
    ]
