"""The reads an export needs: a whole case with its history (members who left included), and everything
the bot holds about one user. Plain rows, read inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ColumnElement, or_, select

from bot.storage.models import (
    ActionEntry,
    AuditEntry,
    Case,
    ConsentRecord,
    Dialog,
    InboxRow,
    Member,
    Need,
    PlanItem,
    Reminder,
    User,
)
from bot.storage.repo import Repo


@dataclass(frozen=True)
class CaseRows:
    """A case and every row that belongs to it, each list in the order people see it."""

    case: Case
    members: Sequence[Member]
    needs: Sequence[Need]
    items: Sequence[PlanItem]
    entries: Sequence[ActionEntry]
    reminders: Sequence[Reminder]
    consents: Sequence[ConsentRecord]
    users: dict[int, User]


async def _users(repo: Repo, ids: Iterable[int | None]) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await repo.session.scalars(select(User).where(User.id.in_(wanted)))
    return {user.id: user for user in rows}


async def case_rows(repo: Repo, case: Case) -> CaseRows:
    session = repo.session
    members = (
        await session.scalars(select(Member).where(Member.case_id == case.id).order_by(Member.id))
    ).all()
    needs = await repo.all_numbered(Need, case.id)
    items = await repo.all_numbered(PlanItem, case.id)
    entries = await repo.all_numbered(ActionEntry, case.id)
    reminders = await repo.all_numbered(Reminder, case.id)
    consents = (
        await session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.case_id == case.id)
            .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
        )
    ).all()
    users = await _users(
        repo,
        [
            case.created_by,
            *(m.user_id for m in members),
            *(m.invited_by for m in members),
            *(n.created_by for n in needs),
            *(i.owner_id for i in items),
            *(i.created_by for i in items),
            *(e.author_id for e in entries),
            *(r.created_by for r in reminders),
            *(r.target_user_id for r in reminders),
            *(c.recorded_by for c in consents),
        ],
    )
    return CaseRows(case, members, needs, items, entries, reminders, consents, users)


@dataclass(frozen=True)
class UserRows:
    """What the bot holds about one user: their row and every row that is theirs or about them."""

    user: User
    memberships: Sequence[tuple[Member, Case]]
    items: Sequence[tuple[PlanItem, Case]]
    entries: Sequence[tuple[ActionEntry, Case]]
    reminders: Sequence[tuple[Reminder, Case]]
    consents: Sequence[tuple[ConsentRecord, Case]]
    dialogs: Sequence[Dialog]
    messages: Sequence[InboxRow]
    audit: Sequence[AuditEntry]


Row = TypeVar("Row", Member, PlanItem, ActionEntry, Reminder, ConsentRecord)


async def _with_case(repo: Repo, model: type[Row], *where: ColumnElement[bool]) -> list[tuple[Row, Case]]:
    rows = await repo.session.execute(
        select(model, Case).join(Case, Case.id == model.case_id).where(*where).order_by(Case.ref, model.id)
    )
    return [(row, case) for row, case in rows]


async def user_rows(repo: Repo, user: User) -> UserRows:
    session = repo.session
    dialogs = (
        await session.scalars(select(Dialog).where(Dialog.user_id == user.id).order_by(Dialog.id))
    ).all()
    # Inbound events wait in the inbox until they are purged ([privacy] keep_messages_days); who sent one
    # is inside its payload, so the network's rows are read and filtered here.
    inbox = await session.scalars(
        select(InboxRow).where(InboxRow.network == user.network).order_by(InboxRow.id)
    )
    messages = [row for row in inbox if _sent_by(row, user.handle)]
    audit = (
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.actor_id == user.id, AuditEntry.at >= user.created_at)
            .order_by(AuditEntry.id)
        )
    ).all()
    return UserRows(
        user,
        await _with_case(repo, Member, Member.user_id == user.id),
        await _with_case(repo, PlanItem, PlanItem.owner_id == user.id),
        await _with_case(repo, ActionEntry, ActionEntry.author_id == user.id),
        await _with_case(
            repo, Reminder, or_(Reminder.target_user_id == user.id, Reminder.created_by == user.id)
        ),
        await _with_case(repo, ConsentRecord, ConsentRecord.recorded_by == user.id),
        dialogs,
        messages,
        audit,
    )


def _sent_by(row: InboxRow, handle: str) -> bool:
    payload = row.payload
    return isinstance(payload, dict) and payload.get("sender", payload.get("user")) == handle
