"""Erasure of a closed case (GDPR art. 17): every row of the case, the people who were only there, and
every message body that still names them, in one transaction; the audit keeps that the case existed.

What the bot said in the case room is taken back by the adapter of its network (an `EraseRoom` effect in
the outbox: redact where the network allows it, remove everyone, leave and forget the room). The
database side is complete by itself: the rows are gone once this transaction commits, whether the
network part is carried out now or when the bot next runs.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Column, Text, cast, delete, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from bot.core import audit
from bot.domain.events import EraseRoom, Target
from bot.domain.model import CaseStatus, MemberState
from bot.settings import Settings
from bot.storage.models import Base, Case, Dialog, InboxRow, Member, OutboxRow, Reminder, User
from bot.storage.repo import Repo

log = logging.getLogger(__name__)

ERASED = "case.erased"
# Inbox rows whose event was handled (or given up on): their payload is history, and may be emptied.
DONE_STATUSES = ("handled", "quarantined")
# Shorter needles would match too much (a one-letter name).
MIN_NEEDLE = 2


class NotErasable(Exception):
    """The case cannot be erased (unknown, or still open); the message says why, for operators."""

    def __init__(self, ref: str, reason: str) -> None:
        super().__init__(reason)
        self.ref = ref


@dataclass(frozen=True)
class Erased:
    """What an erasure did, in counts (for the operator and the log; no personal data)."""

    ref: str
    network: str
    room_id: str | None
    redact: int
    members: int
    users: int
    rows: int
    blanked: int
    # Messages still waiting in other rooms that name the case's people: left alone (a name can be
    # another person's), and emptied by retention once sent.
    left: int


def protected_handles(settings: Settings) -> frozenset[str]:
    """Users never deleted by an erasure: the configured case managers and staff, on every network."""
    handles = set(settings.bot.case_managers)
    if settings.matrix is not None:
        handles.update(settings.matrix.staff)
    if settings.telegram is not None:
        handles.update(settings.telegram.staff)
    return frozenset(handles)


async def closed_case(repo: Repo, ref: str) -> Case:
    """The case to erase, or why it cannot be."""
    case = await repo.case_by_ref(ref)
    if case is None:
        raise NotErasable(ref, f"there is no case {ref}")
    if case.status != CaseStatus.CLOSED:
        raise NotErasable(
            ref,
            f"case {ref} is open: only a closed case can be erased; close it first with `!close <reason>` "
            "in its room",
        )
    return case


async def erase_case(repo: Repo, ref: str, now: datetime, protected: Collection[str]) -> Erased:
    """Erase the closed case `ref` in the caller's transaction; raise `NotErasable` (changing nothing)
    for an unknown or open case. `protected`: handles of users kept even if this was their only case."""
    session = repo.session
    case = await closed_case(repo, ref)
    await session.refresh(case, with_for_update=True)
    room = case.room_id
    members = [
        (member, user)
        for member, user in await session.execute(
            select(Member, User).join(User, User.id == Member.user_id).where(Member.case_id == case.id)
        )
    ]
    current = tuple(sorted({user.handle for member, user in members if member.state != MemberState.LEFT}))
    redact = await _bot_messages(repo, case)
    others = set(
        await session.scalars(
            select(Member.user_id).where(
                Member.user_id.in_([user.id for _m, user in members]), Member.case_id != case.id
            )
        )
    )
    leaving = {
        user.id: user for _m, user in members if user.id not in others and user.handle not in protected
    }
    directs = {user.direct_room_id for user in leaving.values() if user.direct_room_id}
    needles = _needles(case, leaving.values())

    rows = await _delete_case_rows(repo, case, now, directs, set(leaving), {m.id for m, _u in members})
    blanked, left, removed = await _scrub_payloads(repo, needles, room, directs)
    rows += removed
    await session.execute(delete(Case).where(Case.id == case.id))
    rows += 1
    users = await _delete_users(repo, leaving)
    await audit.record(repo, at=now, action=ERASED, network=case.network, case_id=case.id, case_ref=case.ref)
    if room is not None:
        await repo.enqueue(case.network, Target(room_id=room), EraseRoom(redact, current), now)
    await session.flush()
    log.info(
        "case %s erased: %d rows and %d users deleted, %d payloads emptied elsewhere, %d messages to "
        "redact, %d members to remove, %d waiting messages left to retention",
        case.ref,
        rows,
        users,
        blanked,
        len(redact),
        len(current),
        left,
    )
    return Erased(case.ref, case.network, room, len(redact), len(current), users, rows, blanked, left)


async def _bot_messages(repo: Repo, case: Case) -> tuple[str, ...]:
    """The network ids of what the bot posted in the case room."""
    in_room: ColumnElement[bool] = (OutboxRow.room_id.is_(None)) & (OutboxRow.case_id == case.id)
    if case.room_id is not None:
        in_room = or_(in_room, OutboxRow.room_id == case.room_id)
    found = await repo.session.scalars(
        select(OutboxRow.network_event_id)
        .where(OutboxRow.network == case.network, OutboxRow.network_event_id.is_not(None), in_room)
        .order_by(OutboxRow.id)
    )
    return tuple(event_id for event_id in found if event_id)


def _needles(case: Case, users: Iterable[User]) -> list[str]:
    """What names the case or the people erased with it, wherever it was written."""
    words = {case.ref, case.label, case.room_id or ""}
    for user in users:
        words.update((user.handle, user.display_name or ""))
    return sorted(w for w in words if len(w.strip()) >= MIN_NEEDLE)


def _references(target: str) -> Iterator[Column[Any]]:
    """Every column of every table with a foreign key to `target` (a table name)."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == target for fk in column.foreign_keys):
                yield column


async def _delete_case_rows(
    repo: Repo, case: Case, now: datetime, directs: set[str], leaving: set[int], member_ids: set[int]
) -> int:
    """The rows of the case in every table that points at it, in an order the foreign keys allow."""
    session = repo.session
    count = 0
    reminders = select(Reminder.id).where(Reminder.case_id == case.id).scalar_subquery()
    outbox = [OutboxRow.case_id == case.id, OutboxRow.reminder_id.in_(reminders)]
    if case.room_id is not None:
        outbox.append(OutboxRow.room_id == case.room_id)
    if directs:
        outbox.append(OutboxRow.room_id.in_(directs))
    last_id = await session.scalar(select(func.max(OutboxRow.id)))
    count += _rowcount(await session.execute(delete(OutboxRow).where(or_(*outbox))))
    await _keep_outbox_ids_unique(repo, case.network, last_id, now)
    count += await _delete_dialogs(repo, case, leaving, member_ids)
    # Every table with a foreign key to cases (consents, invitations, reminders, action entries, plan
    # items, needs, members, and whatever comes later), dependents first.
    for column in reversed(list(_references("cases"))):
        count += _rowcount(await session.execute(delete(column.table).where(column == case.id)))
    return count


async def _keep_outbox_ids_unique(repo: Repo, network: str, last_id: int | None, now: datetime) -> None:
    """An outbox row's id is a network transaction id, never to be reused for other content. SQLite gives
    a new row the highest id plus one, so deleting the newest rows would hand their ids out again: the
    newest id stays taken by an empty row, already sent."""
    session = repo.session
    if last_id is None or session.get_bind().dialect.name != "sqlite":
        return
    if (await session.scalar(select(func.max(OutboxRow.id))) or 0) < last_id:
        session.add(
            OutboxRow(id=last_id, network=network, payload={}, created_at=now, sent_at=now, attempts=0)
        )
        await session.flush()


async def _delete_dialogs(repo: Repo, case: Case, leaving: set[int], member_ids: set[int]) -> int:
    """Dialogs in the case room, of the people erased, and any other about the case (its reference or
    one of its members in their data)."""
    session = repo.session
    doomed = []
    for dialog in await session.scalars(select(Dialog)):
        data = dialog.data if isinstance(dialog.data, dict) else {}
        about = data.get("ref") == case.ref or data.get("case_id") == case.id
        about = about or data.get("member_id") in member_ids
        if dialog.room_id == case.room_id or dialog.user_id in leaving or about:
            doomed.append(dialog.id)
    if not doomed:
        return 0
    return _rowcount(await session.execute(delete(Dialog).where(Dialog.id.in_(doomed))))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _mentions(needles: list[str]) -> re.Pattern[str]:
    words = "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def _room_of(payload: Any) -> str | None:
    """The room an inbound event came from (an undecryptable one keeps it in its source)."""
    if not isinstance(payload, dict):
        return None
    room = payload.get("room_id")
    if room is None and isinstance(payload.get("source"), dict):
        room = payload["source"].get("room_id")
    return str(room) if room is not None else None


async def _scrub_payloads(
    repo: Repo, needles: list[str], room: str | None, directs: set[str]
) -> tuple[int, int, int]:
    """Inbox and outbox payloads that name the case or its erased people: events from the case room or
    the erased people's direct chats are deleted; other handled events and sent messages are emptied;
    messages still waiting elsewhere are left (counted). Returns (emptied, left, deleted)."""
    if not needles:
        return 0, 0, 0
    session = repo.session
    pattern = _mentions(needles)
    forms = {form for n in needles for form in (n, json.dumps(n)[1:-1])}
    blanked = left = removed = 0
    private = directs | ({room} if room else set())
    for row in await _mentioning(repo, InboxRow, forms, pattern):
        if _room_of(row.payload) in private:
            await session.delete(row)
            removed += 1
        elif row.status in DONE_STATUSES:
            row.payload = {}
            blanked += 1
        else:
            left += 1
    for sent in await _mentioning(repo, OutboxRow, forms, pattern):
        if sent.sent_at is not None:
            sent.payload = {}
            blanked += 1
        else:
            left += 1
    await session.flush()
    return blanked, left, removed


Payload = TypeVar("Payload", InboxRow, OutboxRow)


async def _mentioning(
    repo: Repo, model: type[Payload], forms: set[str], pattern: re.Pattern[str]
) -> list[Payload]:
    """Rows whose payload holds a needle as a word: found by the database as text (raw, or as JSON
    escapes it), then checked value by value."""
    text = cast(model.payload, Text)
    found = await repo.session.scalars(
        select(model).where(or_(*(text.ilike(_like(form), escape="\\") for form in forms)))
    )
    return [row for row in found if any(pattern.search(s) for s in _strings(row.payload))]


async def _delete_users(repo: Repo, leaving: dict[int, User]) -> int:
    """The people who were only in this case, unless a row elsewhere still points at them."""
    session = repo.session
    kept: set[int] = set()
    ids = list(leaving)
    if not ids:
        return 0
    for column in _references("users"):
        kept.update(await session.scalars(select(column).where(column.in_(ids)).distinct()))
    doomed = [user_id for user_id in ids if user_id not in kept]
    if kept:
        log.info("%d users of the erased case are still referenced elsewhere; kept", len(kept))
    if doomed:
        await session.execute(delete(User).where(User.id.in_(doomed)))
    return len(doomed)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
