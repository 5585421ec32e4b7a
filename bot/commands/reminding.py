"""Reminders, follow-ups, the review cycle, and closing the case."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.commands.grammar import Kind, Param, Values
from bot.commands.registry import Command
from bot.core import args, cases, consent, plan
from bot.core import reminders as core
from bot.core.context import Ctx, UserError
from bot.core.dialogs import start_dialog
from bot.core.permissions import ACTORS, ALL, ANY_STATE, CM, TEAM, Direct, Permission
from bot.core.recurrence import first_occurrence, next_occurrence
from bot.core.render import describe_interval
from bot.core.reviews import record_review
from bot.domain.model import (
    Interval,
    ItemStatus,
    ReminderKind,
    ReminderStatus,
    Role,
    TargetKind,
)
from bot.i18n import N_, _, fmt_datetime
from bot.storage.models import Reminder, User


async def run_remind(room: Ctx, v: Values) -> None:
    target = v.of("target", str)
    if room.case is None and target.lower() != "me":
        raise UserError(_("In our direct chat you can set reminders for yourself: !remind me <when> <text>."))
    ctx = await cases.in_case(room, v.opt("case", str), "remind", REMIND)
    case = ctx.require_case()
    schedule = v.of("when", object)
    every = schedule if isinstance(schedule, Interval) else None
    text = v.of("text", str)
    target_user: User | None = None
    target_role: Role | None = None
    word = target.lower()
    if word == "me":
        kind, target_user = TargetKind.USER, ctx.user
    elif ctx.role in (Role.PERSON, Role.CARER):
        raise UserError(_("You can set reminders for yourself: !remind me <when> <text>."))
    elif word == "room":
        kind = TargetKind.ROOM
    elif (role := Role.from_plural(word)) is not None:
        kind, target_role = TargetKind.ROLE, role
    else:
        if not ctx.net.user_id_pattern.fullmatch(target):
            raise args.UsageError(
                _(
                    "Remind whom? Use me, room, a member, or a role in the plural: {roles}.",
                    roles=", ".join(r.plural for r in Role),
                )
            )
        kind, target_user = TargetKind.USER, (await cases.member(ctx, target))[0]
    if every is not None:
        due = first_occurrence(every, ctx.zone, ctx.now)
    elif isinstance(schedule, datetime):
        due = schedule
    else:
        raise TypeError(f"unexpected schedule {type(schedule).__name__}")
    reminder = await core.create(
        ctx.repo,
        ctx.services,
        case,
        kind=ReminderKind.REMINDER,
        creator=ctx.user,
        target_kind=kind,
        target_user=target_user,
        target_role=target_role,
        text=text,
        due_at=due,
        zone=ctx.zone,
        now=ctx.now,
        interval=every,
    )
    if core.is_personal(reminder) and not ctx.is_direct:
        # Its text is for its owner only: not repeated where the room reads it.
        answer = _(
            "Personal reminder {id} set for {when}: only you will see its text, in our direct chat. Set "
            "personal reminders there, so that nobody reads them here.",
            id=reminder.number,
            when=fmt_datetime(due),
        )
    else:
        answer = _(
            "Reminder {id} set for {when}: “{text}”", id=reminder.number, when=fmt_datetime(due), text=text
        )
        if core.is_personal(reminder):
            answer = f"{case.ref} · {answer} " + _("Only you will see its text.")
    if every is not None:
        answer += " " + _("Repeats {interval}.", interval=describe_interval(every))
    await ctx.reply(answer)


async def run_followup(ctx: Ctx, v: Values) -> None:
    case = ctx.require_case()
    number, when = v.of("n", int), v.of("when", datetime)
    item = await plan.item(ctx, number)
    if not ItemStatus(item.status).is_open:
        raise UserError(_("Plan item #{n} is already closed; there is nothing to follow up.", n=number))
    if item.owner_id is None:
        raise UserError(_("Plan item #{n} has no owner to follow up with.", n=number))
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
        due_at=when,
        zone=ctx.zone,
        now=ctx.now,
    )
    answer = _(
        "Follow-up {id}: I will ask {name} about #{n} on {when}.",
        id=reminder.number,
        name=owner.name,
        n=item.number,
        when=fmt_datetime(when),
    )
    if (note := await consent.instead_note(ctx.repo, case, owner)) is not None:
        answer += " " + note
    await ctx.reply(answer)


async def run_review_every(ctx: Ctx, v: Values) -> None:
    interval = v.of("interval", Interval)
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


async def run_review_on(ctx: Ctx, v: Values) -> None:
    when = v.of("date", datetime)
    case = ctx.require_case()
    await core.schedule_review(ctx.repo, ctx.services, case, ctx.user, when, ctx.zone, ctx.now)
    await ctx.reply(
        _(
            "The next review is on {when}. Case managers are reminded 7 days before and on the day.",
            when=fmt_datetime(when),
        )
    )


async def run_review_done(ctx: Ctx, v: Values) -> None:
    when = await record_review(ctx, v.opt("note", str) or "")
    if when is None:
        await ctx.reply(_("Review recorded. No cycle is set; plan the next one with !review on <date>."))
    else:
        await ctx.reply(_("Review recorded. The next one is on {when}.", when=fmt_datetime(when)))


async def run_review_start(ctx: Ctx, _v: Values) -> None:
    await start_dialog(ctx, "plan-review")


async def run_reminders(ctx: Ctx, _v: Values) -> None:
    """In a case room, the case's pending reminders (a personal one shows only that it exists, even to its
    owner: the room reads the answer). In the direct chat, the sender's own personal reminders, with text."""
    if ctx.case is None:
        await _my_reminders(ctx)
        return
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
        elif reminder.kind == ReminderKind.DUE:
            item = await ctx.repo.item_by_id(reminder.item_id) if reminder.item_id else None
            what = _("due date of #{n}", n=item.number if item else "?")
        else:
            what = core.reminder_text(reminder, users)
        target = core.describe_target(reminder, users)
        line = f"{reminder.number} · {fmt_datetime(reminder.due_at)} · {target} · {what}"
        if reminder.interval:
            line += f" ({describe_interval(Interval.decode(reminder.interval))})"
        lines.append(line)
    await ctx.reply("\n".join(lines))


async def _my_reminders(ctx: Ctx) -> None:
    mine = await ctx.repo.personal_reminders(ctx.user.id)
    if not mine:
        await ctx.reply(_("You have no personal reminders pending."))
        return
    lines = [_("Your personal reminders:")]
    for reminder, case in mine:
        line = f"{case.ref} · {reminder.number} · {fmt_datetime(reminder.due_at)} · {reminder.text or ''}"
        if reminder.interval:
            line += f" ({describe_interval(Interval.decode(reminder.interval))})"
        lines.append(line)
    await ctx.reply("\n".join(lines))


async def run_cancel(room: Ctx, v: Values) -> None:
    number = v.of("id", int)
    ctx = await cases.in_case(room, v.opt("case", str), "cancel", CANCEL)
    case = ctx.require_case()
    reminder = await ctx.repo.numbered(Reminder, case.id, number)
    if reminder is None or reminder.status != ReminderStatus.PENDING:
        raise UserError(_("There is no pending reminder {n}. See !reminders.", n=number))
    if ctx.role is not Role.CASE_MANAGER and reminder.created_by != ctx.user.id:
        raise UserError(_("Only the case manager or whoever set it can cancel reminder {n}.", n=number))
    if room.case is None and reminder.created_by != ctx.user.id:
        raise UserError(_("In our direct chat you can cancel only reminders you set; see !reminders."))
    reminder.status = ReminderStatus.CANCELLED
    await ctx.reply(_("Reminder {n} cancelled.", n=number))


async def run_snooze(room: Ctx, v: Values) -> None:
    """Move a reminder addressed to the sender. One occurrence of a recurring reminder moves alone: it
    becomes a one-off at the new time and the series goes on as before."""
    ctx = await cases.in_case(room, v.opt("case", str), "snooze", SNOOZE)
    case = ctx.require_case()
    number, when = v.of("id", int), v.of("when", datetime)
    reminder = await ctx.repo.numbered(Reminder, case.id, number)
    if reminder is None or reminder.status != ReminderStatus.PENDING:
        raise UserError(_("There is no pending reminder {n}. See !reminders.", n=number))
    if reminder.target_kind != TargetKind.USER or reminder.target_user_id != ctx.user.id:
        raise UserError(_("Only the person reminder {n} is addressed to can snooze it.", n=number))
    if reminder.interval:
        moved = await core.create(
            ctx.repo,
            ctx.services,
            case,
            kind=ReminderKind(reminder.kind),
            creator=await ctx.repo.user_by_id(reminder.created_by),
            target_kind=TargetKind.USER,
            target_user=ctx.user,
            text=reminder.text,
            item_id=reminder.item_id,
            due_at=when,
            zone=ctx.zone,
            now=ctx.now,
        )
        reminder.due_at = next_occurrence(
            Interval.decode(reminder.interval), ZoneInfo(reminder.timezone), reminder.due_at
        )
        await ctx.reply(
            _(
                "This occurrence of reminder {n} is moved to {when} (as reminder {m}); the next one stays on "
                "{next}.",
                n=number,
                when=fmt_datetime(when),
                m=moved.number,
                next=fmt_datetime(reminder.due_at),
            )
        )
        return
    reminder.due_at = when
    ctx.services.wake_at(when)
    await ctx.reply(_("Reminder {n} is moved to {when}.", n=number, when=fmt_datetime(when)))


async def run_close(ctx: Ctx, v: Values) -> None:
    await cases.close(ctx, v.of("reason", str))


ITEM = Param(N_("n"), Kind.NUMBER, N_("plan item number"), hashed=True)
REMINDER = Param(N_("id"), Kind.NUMBER, N_("reminder number"))
# In the direct chat, which case (when the sender is in several); read only where a case reference stands.
CASE = Param(N_("case"), Kind.REF, N_("case reference"), optional=True)
# Personal reminders are set, listed, moved and cancelled in the direct chat too, out of the room's sight.
REMIND = Permission(roles=ACTORS, direct=Direct.EVERYONE)
CANCEL = Permission(roles=ACTORS, direct=Direct.EVERYONE)
SNOOZE = Permission(roles=ALL, direct=Direct.EVERYONE)


def commands() -> list[Command]:
    return [
        Command(
            "remind",
            (
                Param(N_("me|room|user|role"), Kind.WORD, N_("person to remind"), key="target"),
                CASE,
                Param(N_("when"), Kind.SCHEDULE, N_("date or time")),
                Param(N_("text"), Kind.TEXT, N_("reminder text")),
            ),
            N_(
                "Set a reminder, e.g. !remind carers tomorrow 9:00 bring the medication list, or "
                "!remind me every monday 9:00 weigh-in. Roles in the plural: carers, professionals..."
            ),
            run_remind,
            # Persons and carers may only remind themselves; the handler enforces that finer rule.
            REMIND,
            details=N_(
                "The text after the date is kept exactly as typed. A reminder you set for yourself (me) is "
                "personal: it comes to our direct chat, and others see only that it exists. Set it in our "
                "direct chat so that nobody reads it in the room: !remind me tomorrow 9:00 <text> (add the "
                "case, e.g. !remind me C-2026-0001 ..., if you are in several)."
            ),
        ),
        Command(
            "followup",
            (ITEM, Param(N_("when"), Kind.WHEN, N_("date or time"))),
            N_("Remind a plan item's owner to report on it."),
            run_followup,
            Permission(roles=TEAM),
        ),
        Command(
            "review every",
            (Param(N_("interval"), Kind.INTERVAL, N_("interval")),),
            N_("Set the review cycle, e.g. 3 months."),
            run_review_every,
            Permission(roles=CM),
        ),
        Command(
            "review on",
            (Param(N_("date"), Kind.WHEN, N_("date")),),
            N_("Set the date of the next review."),
            run_review_on,
            Permission(roles=CM),
        ),
        Command(
            "review done",
            (Param(N_("note"), Kind.TEXT, N_("note"), optional=True),),
            N_("Record that the review took place; schedules the next one."),
            run_review_done,
            Permission(roles=CM),
        ),
        Command(
            "review start",
            (),
            N_("Walk through each open plan item: done, keep, or a new due date."),
            run_review_start,
            Permission(roles=CM),
        ),
        Command(
            "reminders",
            (),
            N_("List the pending reminders."),
            run_reminders,
            Permission(roles=ALL, direct=Direct.EVERYONE, states=ANY_STATE),
        ),
        Command(
            "cancel",
            (CASE, REMINDER),
            N_("Cancel a pending reminder."),
            run_cancel,
            # Anyone but the case manager may only cancel reminders they set themselves.
            CANCEL,
        ),
        Command(
            "snooze",
            (CASE, REMINDER, Param(N_("when"), Kind.WHEN, N_("date or time"))),
            N_("Move a reminder addressed to you to a later time."),
            run_snooze,
            SNOOZE,
        ),
        Command(
            "close",
            (Param(N_("reason"), Kind.TEXT, N_("reason for closing")),),
            N_("Close the case: pending reminders are cancelled, a summary is posted."),
            run_close,
            Permission(roles=CM),
        ),
    ]
