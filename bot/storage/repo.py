"""Repository: every query the core needs, behind plain methods, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.events import Effect, Target, effect_to_json
from bot.domain.model import CaseStatus, MemberState, ReminderKind, ReminderStatus, Role, TargetKind
from bot.storage.models import (
    ActionEntry,
    Base,
    Case,
    CaseSequence,
    Dialog,
    InboxRow,
    Invitation,
    Member,
    Need,
    OutboxRow,
    PlanItem,
    Reminder,
    SyncCursor,
    User,
)

Numbered = TypeVar("Numbered", Need, PlanItem, Reminder, ActionEntry)


class Repo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: Base) -> None:
        self.session.add(row)
        await self.session.flush()

    # users -----------------------------------------------------------------------------------------
    async def user(self, network: str, handle: str) -> User | None:
        return await self.session.scalar(select(User).where(User.network == network, User.handle == handle))

    async def user_by_id(self, user_id: int) -> User:
        user = await self.session.get(User, user_id)
        assert user is not None
        return user

    async def ensure_user(self, network: str, handle: str, now: datetime) -> User:
        user = await self.user(network, handle)
        if user is None:
            user = User(network=network, handle=handle, created_at=now)
            await self.add(user)
        return user

    async def merge_user(self, placeholder: User, user: User) -> None:
        """Everything that points at `placeholder` (an invitee known by name only) points at `user` from
        now on, and the placeholder is deleted. Every mapped column that refers to users is followed, so
        no reference is left behind when the schema grows; rows are changed as objects, so what the
        session holds stays true."""
        await self.session.flush()
        for mapper in Base.registry.mappers:
            for attribute in mapper.column_attrs:
                column = attribute.columns[0]
                if not any(fk.column.table.name == "users" for fk in column.foreign_keys):
                    continue
                rows = await self.session.scalars(
                    select(mapper.class_).where(getattr(mapper.class_, attribute.key) == placeholder.id)
                )
                for row in rows:
                    setattr(row, attribute.key, user.id)
        await self.session.flush()
        await self.session.delete(placeholder)
        await self.session.flush()

    async def invitation(self, token_hash: str) -> Invitation | None:
        return await self.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash))

    async def invitation_of(self, member_id: int) -> Invitation | None:
        """The latest invitation by link of a member."""
        return await self.session.scalar(
            select(Invitation)
            .where(Invitation.member_id == member_id)
            .order_by(Invitation.id.desc())
            .limit(1)
        )

    # cases -----------------------------------------------------------------------------------------
    async def next_case_ref(self, year: int) -> str:
        sequence = await self.session.get(CaseSequence, year, with_for_update=True)
        if sequence is None:
            sequence = CaseSequence(year=year, last=0)
            self.session.add(sequence)
        sequence.last += 1
        await self.session.flush()
        return f"C-{year}-{sequence.last:04d}"

    async def case_by_room(self, network: str, room_id: str) -> Case | None:
        return await self.session.scalar(select(Case).where(Case.network == network, Case.room_id == room_id))

    async def case_rooms(self, network: str) -> list[tuple[str, bool]]:
        """The rooms of a network's cases, each with whether its case is closed (the room guard's list)."""
        rows = await self.session.execute(
            select(Case.room_id, Case.status)
            .where(Case.network == network, Case.room_id.is_not(None))
            .order_by(Case.id)
        )
        return [(room_id, status != CaseStatus.OPEN) for room_id, status in rows if room_id is not None]

    async def case_by_ref(self, ref: str) -> Case | None:
        return await self.session.scalar(select(Case).where(Case.ref == ref))

    async def case_by_id(self, case_id: int) -> Case:
        case = await self.session.get(Case, case_id)
        assert case is not None
        return case

    async def cases_of(self, user_id: int) -> Sequence[tuple[Case, Member]]:
        rows = await self.session.execute(
            select(Case, Member)
            .join(Member, Member.case_id == Case.id)
            .where(
                Member.user_id == user_id, Member.state != MemberState.LEFT, Case.status == CaseStatus.OPEN
            )
            .order_by(Case.ref)
        )
        return [(case, member) for case, member in rows]

    async def is_member_of_open_case(self, network: str, handle: str) -> bool:
        found = await self.session.scalar(
            select(Member.id)
            .join(User, User.id == Member.user_id)
            .join(Case, Case.id == Member.case_id)
            .where(
                User.network == network,
                User.handle == handle,
                Member.state != MemberState.LEFT,
                Case.status == CaseStatus.OPEN,
            )
            .limit(1)
        )
        return found is not None

    # members ---------------------------------------------------------------------------------------
    async def member(self, case_id: int, user_id: int) -> Member | None:
        return await self.session.scalar(
            select(Member).where(Member.case_id == case_id, Member.user_id == user_id)
        )

    async def members(self, case_id: int, role: Role | None = None) -> Sequence[tuple[Member, User]]:
        query = (
            select(Member, User)
            .join(User, User.id == Member.user_id)
            .where(Member.case_id == case_id, Member.state != MemberState.LEFT)
            .order_by(Member.id)
        )
        if role is not None:
            query = query.where(Member.role == role)
        return [(m, u) for m, u in (await self.session.execute(query))]

    # numbered rows (needs, plan items, reminders) --------------------------------------------------
    async def next_number(self, model: type[Numbered], case_id: int) -> int:
        current = await self.session.scalar(select(func.max(model.number)).where(model.case_id == case_id))
        return (current or 0) + 1

    async def numbered(self, model: type[Numbered], case_id: int, number: int) -> Numbered | None:
        return await self.session.scalar(
            select(model).where(model.case_id == case_id, model.number == number)
        )

    async def all_numbered(self, model: type[Numbered], case_id: int) -> Sequence[Numbered]:
        return (
            await self.session.scalars(select(model).where(model.case_id == case_id).order_by(model.number))
        ).all()

    async def need_by_id(self, need_id: int) -> Need | None:
        return await self.session.get(Need, need_id)

    async def item_by_id(self, item_id: int) -> PlanItem | None:
        return await self.session.get(PlanItem, item_id)

    async def actions(self, case_id: int, item_id: int | None = None) -> Sequence[tuple[ActionEntry, User]]:
        query = (
            select(ActionEntry, User)
            .join(User, User.id == ActionEntry.author_id)
            .where(ActionEntry.case_id == case_id)
            .order_by(ActionEntry.created_at, ActionEntry.id)
        )
        if item_id is not None:
            query = query.where(ActionEntry.item_id == item_id)
        return [(a, u) for a, u in (await self.session.execute(query))]

    async def count_actions(self, case_id: int) -> int:
        return int(
            await self.session.scalar(
                select(func.count(ActionEntry.id)).where(ActionEntry.case_id == case_id)
            )
            or 0
        )

    # reminders -------------------------------------------------------------------------------------
    async def pending_reminders(self, case_id: int) -> Sequence[Reminder]:
        return (
            await self.session.scalars(
                select(Reminder)
                .where(Reminder.case_id == case_id, Reminder.status == ReminderStatus.PENDING)
                .order_by(Reminder.due_at, Reminder.number)
            )
        ).all()

    async def personal_reminders(self, user_id: int) -> Sequence[tuple[Reminder, Case]]:
        """The pending reminders a user set for themselves, in their open cases, soonest first."""
        rows = await self.session.execute(
            select(Reminder, Case)
            .join(Case, Case.id == Reminder.case_id)
            .where(
                Reminder.status == ReminderStatus.PENDING,
                Reminder.kind == ReminderKind.REMINDER,
                Reminder.target_kind == TargetKind.USER,
                Reminder.target_user_id == user_id,
                Reminder.created_by == user_id,
                Case.status == CaseStatus.OPEN,
            )
            .order_by(Reminder.due_at, Reminder.id)
        )
        return [(reminder, case) for reminder, case in rows]

    async def cancel_reminders(self, case_id: int, **where: Any) -> int:
        query = update(Reminder).where(Reminder.case_id == case_id, Reminder.status == ReminderStatus.PENDING)
        for column, value in where.items():
            query = query.where(getattr(Reminder, column) == value)
        result = await self.session.execute(query.values(status=ReminderStatus.CANCELLED))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def due_reminders(self, now: datetime, limit: int) -> Sequence[Reminder]:
        query = (
            select(Reminder)
            .where(Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= now)
            .order_by(Reminder.due_at, Reminder.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return (await self.session.scalars(query)).all()

    async def earliest_due(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(Reminder.due_at)).where(Reminder.status == ReminderStatus.PENDING)
        )

    # outbox ----------------------------------------------------------------------------------------
    async def enqueue(self, network: str, target: Target, effect: Effect, now: datetime) -> None:
        self.session.add(
            OutboxRow(
                network=network,
                case_id=target.case_id,
                room_id=target.room_id,
                payload=effect_to_json(effect),
                created_at=now,
                attempts=0,
                reminder_id=getattr(effect, "reminder_id", None),
            )
        )

    async def unsent(self, network: str, limit: int, after_id: int = 0) -> Sequence[OutboxRow]:
        return (
            await self.session.scalars(
                select(OutboxRow)
                .where(OutboxRow.network == network, OutboxRow.sent_at.is_(None), OutboxRow.id > after_id)
                .order_by(OutboxRow.id)
                .limit(limit)
            )
        ).all()

    async def outbox_row(self, row_id: int) -> OutboxRow | None:
        return await self.session.get(OutboxRow, row_id)

    async def delivered(self, network: str, network_event_id: str) -> OutboxRow | None:
        return await self.session.scalar(
            select(OutboxRow).where(
                OutboxRow.network == network, OutboxRow.network_event_id == network_event_id
            )
        )

    # network cursors -------------------------------------------------------------------------------
    async def cursor(self, network: str) -> str | None:
        row = await self.session.get(SyncCursor, network)
        return row.value if row else None

    async def set_cursor(self, network: str, value: str, now: datetime) -> None:
        row = await self.session.get(SyncCursor, network)
        if row is None:
            self.session.add(SyncCursor(network=network, value=value, updated_at=now))
        else:
            row.value = value
            row.updated_at = now

    # inbox -----------------------------------------------------------------------------------------
    async def inbox_row(self, network: str, event_id: str) -> InboxRow | None:
        return await self.session.scalar(
            select(InboxRow).where(InboxRow.network == network, InboxRow.event_id == event_id)
        )

    async def record_inbox(
        self, network: str, event_id: str, payload: dict[str, Any], status: str, now: datetime
    ) -> bool:
        """Keep an inbound event unless it is already kept (by this or another process): one statement."""
        dialect = self.session.get_bind().dialect.name
        values = {
            "network": network,
            "event_id": event_id,
            "payload": payload,
            "status": status,
            "attempts": 0,
            "received_at": now,
        }
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        result = await self.session.execute(
            insert(InboxRow).values(values).on_conflict_do_nothing(index_elements=["network", "event_id"])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def claim_inbox(self, row_id: int, now: datetime) -> dict[str, Any] | None:
        """Mark a pending event handled and return it; None when it was handled already. The caller's
        transaction decides: if handling fails, the mark is rolled back with everything else."""
        payload = await self.session.scalar(
            update(InboxRow)
            .where(InboxRow.id == row_id, InboxRow.status == "pending")
            .values(status="handled", handled_at=now)
            .returning(InboxRow.payload)
        )
        return dict(payload) if payload is not None else None

    async def mark_sent(
        self, row_id: int, now: datetime, network_event_id: str | None, forget: bool = False
    ) -> None:
        """`forget`: the payload is emptied at once (an erasure's, which lists the people it removed)."""
        values: dict[str, Any] = {"sent_at": now, "network_event_id": network_event_id}
        if forget:
            values["payload"] = {}
        await self.session.execute(
            update(OutboxRow).where(OutboxRow.id == row_id).values(attempts=OutboxRow.attempts + 1, **values)
        )

    async def pending_inbox(self, network: str, limit: int) -> Sequence[InboxRow]:
        return await self.inbox_with_status(network, "pending", limit)

    async def inbox_with_status(self, network: str, status: str, limit: int) -> Sequence[InboxRow]:
        return (
            await self.session.scalars(
                select(InboxRow)
                .where(InboxRow.network == network, InboxRow.status == status)
                .order_by(InboxRow.id)
                .limit(limit)
            )
        ).all()

    # dialogs ---------------------------------------------------------------------------------------
    async def dialog(self, network: str, room_id: str, user_id: int) -> Dialog | None:
        return await self.session.scalar(
            select(Dialog).where(
                Dialog.network == network, Dialog.room_id == room_id, Dialog.user_id == user_id
            )
        )

    async def delete(self, row: Base) -> None:
        await self.session.delete(row)
        await self.session.flush()
