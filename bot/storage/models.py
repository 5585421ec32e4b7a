"""The schema. Personal data lives in few, known columns: users.handle, cases.label and the free-text
columns of needs, plan_items, action_entries and reminders (and outbox payloads until delivered)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import true
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always gives back aware datetimes, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("network", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The user's direct chat with the bot, where what is only for them (a personal reminder) goes.
    direct_room_id: Mapped[str | None] = mapped_column(String(255))
    # The name shown for the user where the network id means nothing to people (Telegram's numeric ids):
    # the name a case manager invited them by, else their name on the network.
    display_name: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def name(self) -> str:
        return self.display_name or self.handle


class CaseSequence(Base):
    __tablename__ = "case_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("network", "room_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    network: Mapped[str] = mapped_column(String(32))
    room_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    review_interval: Mapped[str | None] = mapped_column(String(64))
    next_review_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(Text)


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Need(Base):
    __tablename__ = "needs"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    number: Mapped[int] = mapped_column(Integer)
    domain: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PlanItem(Base):
    __tablename__ = "plan_items"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    frequency: Mapped[str | None] = mapped_column(String(64))
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id"))
    status: Mapped[str] = mapped_column(String(16))
    # On the due day the owner gets a follow-up unless the item is done, blocked or cancelled; the case
    # manager can turn that off per item.
    due_followup: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActionEntry(Base):
    """The action log: appended to, never changed. A wrong entry is corrected by a later one."""

    __tablename__ = "action_entries"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # Per case, shown in !history, so an entry can be named by `!log fix <n>`.
    number: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("plan_items.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # See EntryKind: an action, a status change (detail holds it), a review, an acknowledgement, an edit
    # of a plan item or need (detail names the field; change holds before and after), a correction.
    kind: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    change: Mapped[dict[str, object] | None] = mapped_column(JSON)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("action_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Reminder(Base):
    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("case_id", "number"),
        Index("ix_reminders_pending_due", "status", "due_at"),
        # A case's pending reminders (!reminders, closing) without walking every pending reminder.
        Index("ix_reminders_case_status_due", "case_id", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    target_kind: Mapped[str] = mapped_column(String(16))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    target_role: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("plan_items.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    interval: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    fired_count: Mapped[int] = mapped_column(Integer, default=0)
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxRow(Base):
    """A message or room operation to carry out; its id makes the network transaction id."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    room_id: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # The network's id of the delivered message, so reactions to it can be traced back.
    network_event_id: Mapped[str | None] = mapped_column(String(255), index=True)
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id"))
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A "snooze 1 day" button was pressed on this reminder message (once is enough).
    snoozed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Invitation(Base):
    """An invitation by link, where the bot cannot add people by id (Telegram): a single-use token,
    stored hashed, that binds whoever opens it first, before it expires, to the invited member."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when someone opened the link: the invitation is bound to them and cannot be used again.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InboxRow(Base):
    """An inbound event, recorded before the network cursor moves past it, handled once."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("network", "event_id"),
        Index("ix_inbox_status", "status", "id"),
        # Retention empties the payloads of events handled before a time (bot.core.retention).
        Index("ix_inbox_status_handled_at", "status", "handled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Dialog(Base):
    """A multi-step conversation in progress, keyed by room and user."""

    __tablename__ = "dialogs"
    __table_args__ = (UniqueConstraint("network", "room_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(String(32))
    room_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SyncCursor(Base):
    """Where a network's event stream was read up to; moved only after the events before it are recorded."""

    __tablename__ = "sync_cursors"

    network: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsentRecord(Base):
    """One decision of the person about sharing their case (see `Scope`): given or withdrawn, by the person
    in the room (`how` empty) or recorded by a case manager on their behalf (`how` says how it was obtained).
    Appended, never changed: the latest row of a scope is the state, the rows before it the history."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    given: Mapped[bool] = mapped_column(Boolean)
    how: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """The audit trail: who did what to which case, when, with what outcome — never a message body, a plan
    text, a name or a secret. Each row carries the hash of the one before (`prev_hash`) and its own
    (`hash`), so an edited, deleted or inserted row breaks the chain. Users and cases are kept as bare
    numbers, without foreign keys: erasing a case deletes their rows, not the trail."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_case_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    network: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(Integer)
    case_ref: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(48))
    outcome: Mapped[str] = mapped_column(String(16))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last entry of the audit trail (one row): appending locks it, so entries are numbered without
    gaps in commit order, and a deleted last entry is noticed."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
