"""Reminders, follow-ups and reviews. The rows are the truth; whoever wakes us only calls fire_due."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import consent
from bot.core.context import Services, Speaker, reminder_buttons
from bot.core.recurrence import first_occurrence, next_occurrence
from bot.core.render import describe_interval, role_name, status_name
from bot.core.when import DEFAULT_TIME
from bot.domain.events import SendMessage, Target
from bot.domain.model import (
    CaseStatus,
    Interval,
    ItemStatus,
    ReminderKind,
    ReminderStatus,
    Role,
    TargetKind,
)
from bot.i18n import _, fmt_datetime, ngettext, using
from bot.storage.models import Case, PlanItem, Reminder, User
from bot.storage.repo import Repo

log = logging.getLogger(__name__)

# A reminder handed over later than this after its due time says that it is late.
LATE_AFTER = timedelta(minutes=2)
REVIEW_NOTICE = timedelta(days=7)


async def create(
    repo: Repo,
    services: Services,
    case: Case,
    *,
    kind: ReminderKind,
    creator: User,
    target_kind: TargetKind,
    due_at: datetime,
    zone: ZoneInfo,
    now: datetime,
    target_user: User | None = None,
    target_role: Role | None = None,
    text: str | None = None,
    item_id: int | None = None,
    interval: Interval | None = None,
) -> Reminder:
    if kind == ReminderKind.REMINDER:  # follow-ups of the person's items go elsewhere when they fire
        await consent.require_for_reminder(repo, case, creator, target_user, target_role)
    reminder = Reminder(
        case_id=case.id,
        number=await repo.next_number(Reminder, case.id),
        kind=kind,
        created_by=creator.id,
        target_kind=target_kind,
        target_user_id=target_user.id if target_user else None,
        target_role=target_role.value if target_role else None,
        text=text,
        item_id=item_id,
        due_at=due_at,
        interval=interval.encode() if interval else None,
        timezone=str(zone),
        status=ReminderStatus.PENDING,
        fired_count=0,
        created_at=now,
    )
    await repo.add(reminder)
    services.wake_at(due_at)
    return reminder


async def schedule_review(
    repo: Repo, services: Services, case: Case, creator: User, when: datetime, zone: ZoneInfo, now: datetime
) -> None:
    """Set the next review: the case managers are reminded a week before and on the day."""
    await repo.cancel_reminders(case.id, kind=ReminderKind.REVIEW)
    case.next_review_at = when
    for due in (when - REVIEW_NOTICE, when):
        if due > now:
            await create(
                repo,
                services,
                case,
                kind=ReminderKind.REVIEW,
                creator=creator,
                target_kind=TargetKind.ROLE,
                target_role=Role.CASE_MANAGER,
                due_at=due,
                zone=zone,
                now=now,
            )


def review_date(after: datetime, interval: Interval, zone: ZoneInfo) -> datetime:
    """The next review: one interval after `after`, at the interval's time or 09:00 local; a weekday cycle
    (`every monday`) lands on the next such weekday."""
    if interval.weekday is not None:
        return first_occurrence(interval, zone, after)
    return next_occurrence(
        Interval(interval.count, interval.unit, None, interval.at or DEFAULT_TIME), zone, after
    )


def is_personal(reminder: Reminder) -> bool:
    """A reminder someone set for themselves: only they read its text."""
    return (
        reminder.kind == ReminderKind.REMINDER
        and reminder.target_kind == TargetKind.USER
        and reminder.target_user_id == reminder.created_by
    )


def reminder_text(reminder: Reminder, users: dict[int, User]) -> str:
    """A reminder's text as a room or a report may show it: of a personal one, only that it exists (its
    owner reads it in the direct chat)."""
    if is_personal(reminder):
        owner = users.get(reminder.target_user_id or 0)
        return _("a personal reminder of {name}'s", name=owner.name if owner else "?")
    return reminder.text or ""


def describe_target(reminder: Reminder, users: dict[int, User]) -> str:
    if reminder.target_kind == TargetKind.ROOM:
        return _("the whole room")
    if reminder.target_kind == TargetKind.ROLE and reminder.target_role:
        return _("every {role}", role=role_name(reminder.target_role))
    assert reminder.target_user_id is not None
    return users[reminder.target_user_id].name


async def _recipients(repo: Repo, reminder: Reminder) -> list[User] | None:
    """The members a reminder addresses now (None: the whole room). Roles resolve at firing time."""
    if reminder.target_kind == TargetKind.ROOM:
        return None
    if reminder.target_kind == TargetKind.ROLE:
        return [user for _m, user in await repo.members(reminder.case_id, Role(reminder.target_role or ""))]
    members = await repo.members(reminder.case_id)
    return [user for _m, user in members if user.id == reminder.target_user_id]


def _message(case: Case, reminder: Reminder, item: PlanItem | None, missed: int, late: bool) -> str:
    """The reminder's text in the current translator's language."""
    if reminder.kind == ReminderKind.REVIEW and case.next_review_at is not None:
        body = _(
            "Review of case {ref} ({label}) is due {when}. Walk through the plan with !review start.",
            ref=case.ref,
            label=case.label,
            when=fmt_datetime(case.next_review_at),
        )
    elif reminder.kind in (ReminderKind.FOLLOWUP, ReminderKind.DUE) and item is not None:
        due = fmt_datetime(item.due_at) if item.due_at else _("no due date")
        body = _(
            "Follow-up on plan item #{n} “{text}”: {status}, {due}. Update it with !plan done {n} or "
            "!log #{n} <what was done>.",
            n=item.number,
            text=item.text,
            status=status_name(item.status),
            due=due,
        )
    else:
        body = _("Reminder: {text}", text=reminder.text or "")
    if late:
        body += " " + _("(due {when}; sent late)", when=fmt_datetime(reminder.due_at))
    if missed:
        body += " " + ngettext(
            "({n} earlier occurrence was missed while I was offline.)",
            "({n} earlier occurrences were missed while I was offline.)",
            missed,
        )
    if reminder.interval:
        body += " " + _("Repeats {interval}.", interval=describe_interval(Interval.decode(reminder.interval)))
    return body


async def _fire_personal(
    speaker: Speaker, case: Case, reminder: Reminder, user: User, message: Callable[[], str]
) -> None:
    """A personal reminder goes to its owner's direct chat, text and all; if the bot does not know that
    chat yet, the case room is told only that it is due, never what it says."""
    services = speaker.services
    with using(services.translator_for(user)):
        if user.direct_room_id is not None:
            text = _(
                "{ref} · {text} (reminder {n}: !snooze {n} <when> moves it)",
                ref=case.ref,
                text=message(),
                n=reminder.number,
            )
            await speaker.emit(
                Target(room_id=user.direct_room_id),
                SendMessage(
                    text,
                    (user.handle,),
                    reminder_id=reminder.id,
                    mention_names=(user.name,),
                    buttons=reminder_buttons(),
                ),
            )
            return
        text = _(
            "{name}: your personal reminder {n} is due. Write to me in a direct chat once, and I will send "
            "personal reminders there with their text.",
            name=user.name,
            n=reminder.number,
        )
        notice = SendMessage(
            text,
            (user.handle,),
            reminder_id=reminder.id,
            mention_names=(user.name,),
            buttons=reminder_buttons(),
        )
    await speaker.emit(Target(case_id=case.id), notice)


async def _instead(
    speaker: Speaker,
    case: Case,
    reminder_id: int,
    withheld: list[User],
    recipients: list[User],
    message: Callable[[], str],
) -> None:
    """A reminder for the person, who has not agreed to receive reminders, goes to the case managers."""
    managers = [
        user for _m, user in await speaker.repo.members(case.id, Role.CASE_MANAGER) if user not in recipients
    ]

    def instead(readers: list[User]) -> str:
        return _(
            "{names}: a reminder for {person}, who has not agreed to receive reminders, comes to you "
            "instead: {text}",
            names=", ".join(u.name for u in readers),
            person=", ".join(u.name for u in withheld),
            text=message(),
        )

    await speaker.to_members(case, managers, instead, reminder_id=reminder_id)


def _missed_and_next(reminder: Reminder, now: datetime) -> tuple[int, datetime | None]:
    """For a recurring reminder: how many occurrences passed unsent, and the next one after now."""
    if not reminder.interval:
        return 0, None
    interval = Interval.decode(reminder.interval)
    zone = ZoneInfo(reminder.timezone)
    missed = 0
    upcoming = next_occurrence(interval, zone, reminder.due_at)
    while upcoming <= now:
        missed += 1
        upcoming = next_occurrence(interval, zone, upcoming)
    return missed, upcoming


async def fire_due(repo: Repo, services: Services, now: datetime, limit: int = 500) -> int:
    """Turn every due reminder into outbox rows and advance or finish it, in the caller's transaction.

    A one-off reminder that fell due longer ago than the catch-up window (the bot was down) is not sent
    to its recipients any more; the case managers get one message listing those, never silence.
    """
    fired = 0
    window = timedelta(days=services.settings.catch_up_days)
    stale: dict[int, list[Reminder]] = {}
    for reminder in await repo.due_reminders(now, limit):
        case = await repo.case_by_id(reminder.case_id)
        if case.status != CaseStatus.OPEN:
            reminder.status = ReminderStatus.CANCELLED
            continue
        if reminder.kind == ReminderKind.DUE and not await _still_due(repo, reminder):
            reminder.status = ReminderStatus.DONE
            continue
        if reminder.interval is None and now - reminder.due_at > window:
            stale.setdefault(case.id, []).append(reminder)
            reminder.status = ReminderStatus.DONE
            reminder.last_fired_at = now
        else:
            await _fire_one(repo, services, case, reminder, now)
        fired += 1
    for case_id, reminders in stale.items():
        await _report_stale(repo, services, await repo.case_by_id(case_id), reminders, now)
    return fired


async def _still_due(repo: Repo, reminder: Reminder) -> bool:
    """A due-day follow-up is sent only while its item is planned or in progress."""
    item = await repo.item_by_id(reminder.item_id) if reminder.item_id is not None else None
    return item is not None and item.status in (ItemStatus.PLANNED, ItemStatus.IN_PROGRESS)


async def _report_stale(
    repo: Repo, services: Services, case: Case, reminders: list[Reminder], now: datetime
) -> None:
    users = {r.target_user_id: await repo.user_by_id(r.target_user_id) for r in reminders if r.target_user_id}
    managers = [user for _m, user in await repo.members(case.id, Role.CASE_MANAGER)]

    def listing(readers: list[User]) -> str:
        lines = [
            ngettext(
                "{names}: while I was offline, {n} reminder fell due more than {days} days ago; "
                "I did not send it late:",
                "{names}: while I was offline, {n} reminders fell due more than {days} days ago; "
                "I did not send them late:",
                len(reminders),
                names=", ".join(u.name for u in readers),
                days=services.settings.catch_up_days,
            )
        ]
        for reminder in reminders:
            if reminder.kind == ReminderKind.REVIEW:
                what = _("review")
            elif ReminderKind(reminder.kind).about_item:
                what = _("follow-up")
            else:
                what = reminder_text(reminder, users)
            lines.append(
                f"- {reminder.number} · {fmt_datetime(reminder.due_at)} · "
                f"{describe_target(reminder, users)} · {what}"
            )
        return "\n".join(lines)

    await Speaker(repo, services, case.network, now).to_members(case, managers, listing)
    log.info(
        "case %s: %d reminders past the catch-up window reported to its case managers",
        case.ref,
        len(reminders),
    )


async def _fire_one(repo: Repo, services: Services, case: Case, reminder: Reminder, now: datetime) -> None:
    late = now - reminder.due_at > LATE_AFTER
    missed, upcoming = _missed_and_next(reminder, now)
    item = await repo.item_by_id(reminder.item_id) if reminder.item_id is not None else None
    speaker = Speaker(repo, services, case.network, now)
    recipients = await _recipients(repo, reminder)
    # The person who has not agreed to receive reminders gets none; the case managers get it instead.
    withheld = (
        await consent.withheld(repo, case, recipients) if recipients and not is_personal(reminder) else []
    )
    if recipients and withheld:
        recipients = [u for u in recipients if u not in withheld]

    def message() -> str:
        return _message(case, reminder, item, missed, late)

    def addressed(readers: list[User]) -> str:
        return _("{names}: {text}", names=", ".join(u.name for u in readers), text=message())

    if is_personal(reminder) and recipients:
        await _fire_personal(speaker, case, reminder, recipients[0], message)
    elif recipients:
        await speaker.to_members(case, recipients, addressed, reminder_id=reminder.id)
    elif not withheld:
        # The whole room, or a role nobody holds any more: the room is told rather than nobody.
        await speaker.to_room(case, message, mention_room=recipients is None, reminder_id=reminder.id)
    if withheld:
        await _instead(speaker, case, reminder.id, withheld, recipients or [], message)
    log.info(
        "reminder %s of case %s fired (due %s, late=%s, missed=%d)",
        reminder.id,
        case.ref,
        reminder.due_at.isoformat(),
        late,
        missed,
    )
    reminder.fired_count += 1
    reminder.last_fired_at = now
    if upcoming is not None:
        reminder.due_at = upcoming
    else:
        reminder.status = ReminderStatus.DONE
