"""The audit trail: appended in the transaction of what it records, hash-chained, never rewritten.

What an entry holds is fixed here and nowhere else: when, on which network, who (a user's number), which
case (its number and reference), what (a command's name or a named action such as `member.joined`) and the
outcome. Never a message body, a plan text, a name or a secret: the trail outlives erasure.

Tamper evidence: each entry's hash covers its fields and the hash of the entry before it, and the head row
(`audit_head`) names the last entry and its hash. An edited, deleted or inserted row breaks the chain where
`verify` finds it. Someone who can write to the database can still rewrite the WHOLE chain and its head
consistently: that is only caught by comparing the head hash with a copy kept elsewhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AuditEntry, AuditHead, Case, User
from bot.storage.repo import Repo

GENESIS = "0" * 64
HEAD_ID = 1
# The widths of the columns (bot/storage/models.py): a value that does not fit is a programming error,
# refused rather than cut (a cut value would no longer match its hash).
MAX_ACTION = 48
MAX_OUTCOME = 16
MAX_NETWORK = 32
MAX_REF = 32


class Outcome:
    OK = "ok"
    REFUSED = "refused"
    INVALID = "invalid"
    FAILED = "failed"


# The named actions of membership (cases.py); commands are recorded by their declared names.
MEMBER_INVITED = "member.invited"
MEMBER_JOINED = "member.joined"
MEMBER_LEFT = "member.left"
MEMBER_REMOVED = "member.removed"
MEMBER_BOUND = "member.bound"  # an invitation link was opened: the invited member is now that user
JOIN_REQUEST = "member.join_request"


class AuditError(RuntimeError):
    """The trail cannot be appended to (its head row is gone although entries exist): someone changed the
    database by hand. Nothing is written until an operator has looked (`caseroom audit verify`)."""


def entry_hash(
    prev_hash: str,
    entry_id: int,
    at: datetime,
    network: str | None,
    actor_id: int | None,
    case_id: int | None,
    case_ref: str | None,
    action: str,
    outcome: str,
) -> str:
    """The hash of an entry over every field and the previous entry's hash (fields joined by a separator
    that none of them can hold)."""
    fields = [
        prev_hash,
        str(entry_id),
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        network or "",
        "" if actor_id is None else str(actor_id),
        "" if case_id is None else str(case_id),
        case_ref or "",
        action,
        outcome,
    ]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def _check(name: str, value: str | None, limit: int, required: bool = False) -> None:
    if value is None or value == "":
        if required:
            raise ValueError(f"an audit entry needs a {name}")
        return
    if len(value) > limit or "\x1f" in value:
        raise ValueError(f"audit {name} {value!r} is longer than {limit} characters or holds a separator")


async def record(
    repo: Repo,
    *,
    at: datetime,
    action: str,
    outcome: str = Outcome.OK,
    network: str | None = None,
    actor_id: int | None = None,
    case_id: int | None = None,
    case_ref: str | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction: it is committed, or rolled back, with what it records.

    The head row is locked until that transaction ends, so concurrent appends (several processes) are
    numbered one after the other, without gaps. Call it late in a transaction where you can: the lock is
    held from here to the commit."""
    _check("action", action, MAX_ACTION, required=True)
    _check("outcome", outcome, MAX_OUTCOME, required=True)
    _check("network", network, MAX_NETWORK)
    _check("case reference", case_ref, MAX_REF)
    session = repo.session
    # populate_existing: a session kept across transactions must not number from a head it read before.
    head = await session.scalar(
        select(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if head is None:
        if await session.scalar(select(AuditEntry.id).limit(1)) is not None:
            raise AuditError(
                "the audit trail has entries but its head row is missing: the database was changed by hand; "
                "run `caseroom audit verify`"
            )
        head = AuditHead(id=HEAD_ID, last_id=0, hash=GENESIS)  # a database built without the migration
        session.add(head)
    at = at.astimezone(UTC)
    entry_id = head.last_id + 1
    digest = entry_hash(head.hash, entry_id, at, network, actor_id, case_id, case_ref, action, outcome)
    entry = AuditEntry(
        id=entry_id,
        at=at,
        network=network,
        actor_id=actor_id,
        case_id=case_id,
        case_ref=case_ref,
        action=action,
        outcome=outcome,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(entry)
    head.last_id, head.hash = entry_id, digest
    await session.flush()
    return entry


async def of_case(repo: Repo, case: Case, action: str, at: datetime, actor_id: int | None) -> None:
    """A named action on a case (a membership change), recorded on the case's network."""
    await record(
        repo,
        at=at,
        action=action,
        network=case.network,
        actor_id=actor_id,
        case_id=case.id,
        case_ref=case.ref,
    )


async def recent(repo: Repo, case_id: int, case_ref: str, limit: int) -> list[tuple[AuditEntry, User | None]]:
    """A case's last `limit` entries, oldest first, each with its actor as the user is now (None: there
    was no actor, or the user no longer exists).

    Numbers of erased rows can come back on SQLite (a new row takes the highest id + 1), so an entry is the
    case's only when its reference matches too (references are never reused), and an actor is only the user
    who holds that number now if that user existed when the entry was written."""
    entries = list(
        await repo.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.case_id == case_id, AuditEntry.case_ref == case_ref)
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )
    entries.reverse()
    ids = {e.actor_id for e in entries if e.actor_id is not None}
    users = {u.id: u for u in await repo.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}

    def actor(entry: AuditEntry) -> User | None:
        user = users.get(entry.actor_id) if entry.actor_id is not None else None
        return user if user is not None and user.created_at <= entry.at else None

    return [(e, actor(e)) for e in entries]


@dataclass(frozen=True)
class Broken:
    """The first entry where the chain does not hold, and why (in English, for operators)."""

    entry_id: int
    reason: str


@dataclass(frozen=True)
class Verified:
    """What `verify` found: how many entries hold together, the hash of the last of them (when the trail is
    intact, the head hash to keep elsewhere), and the first break, if any."""

    entries: int
    head_hash: str
    broken: Broken | None


# Core columns, not ORM attributes: the walk needs tuples, without the ORM's per-row work.
_TABLE = AuditEntry.__table__
_COLUMNS = tuple(
    _TABLE.c[name]
    for name in (
        "id",
        "at",
        "network",
        "actor_id",
        "case_id",
        "case_ref",
        "action",
        "outcome",
        "prev_hash",
        "hash",
    )
)


class _Walk:
    """The chain checked so far: the last intact entry, and the hash of the one before it (to tell an
    inserted entry from a changed one)."""

    def __init__(self) -> None:
        self.last_id = 0
        self.last_hash = GENESIS
        self.before_last_hash: str | None = None
        self.checked = 0

    def step(self, rows: Sequence[tuple[object, ...]]) -> Broken | None:
        for row in rows:
            entry_id, at, network, actor_id, case_id, case_ref, action, outcome, prev, digest = row
            if not isinstance(entry_id, int) or not isinstance(at, datetime):
                raise TypeError("unexpected column types in audit_log")
            if entry_id != self.last_id + 1:
                return _missing(self.last_id + 1, entry_id - 1)
            expected = entry_hash(
                str(prev),
                entry_id,
                at,
                network if isinstance(network, str) else None,
                actor_id if isinstance(actor_id, int) else None,
                case_id if isinstance(case_id, int) else None,
                case_ref if isinstance(case_ref, str) else None,
                str(action),
                str(outcome),
            )
            if prev != self.last_hash:
                return self._unlinked(entry_id, prev, digest == expected)
            if digest != expected:
                return Broken(entry_id, "its content does not match its hash (it was changed)")
            self.before_last_hash, self.last_hash, self.last_id = self.last_hash, expected, entry_id
            self.checked += 1
        return None

    def _unlinked(self, entry_id: int, prev: object, consistent: bool) -> Broken:
        """Entry `entry_id` does not link to the one before it: tell which of the two was tampered with
        where the evidence says so."""
        if self.last_id > 0 and (prev == self.before_last_hash or consistent):
            self.checked -= 1  # the entry before was not what it seemed
            self.last_hash = self.before_last_hash or GENESIS
            if prev == self.before_last_hash:
                why = f"it was inserted: entry {entry_id} links to the entry before it, not to it"
            else:
                why = (
                    f"it was changed and its hash recomputed: entry {entry_id} still links to its former hash"
                )
            return Broken(self.last_id, why)
        return Broken(entry_id, f"it does not link to entry {self.last_id} (its previous hash differs)")


def _missing(first: int, last: int) -> Broken:
    if first == last:
        return Broken(first, "it is missing (deleted)")
    return Broken(first, f"it is missing (deleted), and so are the entries after it up to {last}")


class Transactions(Protocol):
    """Where verify gets its short transactions (an `async_sessionmaker`)."""

    def begin(self) -> AbstractAsyncContextManager[AsyncSession]: ...


async def verify(sessions: Transactions, batch: int = 5000) -> Verified:
    """Walk the whole trail: each entry's hash recomputed, each link to the one before checked, the head
    compared with the last entry.

    Each batch is read in a short transaction of its own, so the bot keeps writing meanwhile (SQLite
    transactions take the write lock). Entries are only ever appended, so what was read stays true; the
    head is read after the walk and the walk goes on to every entry it names, so an entry appended
    meanwhile is not mistaken for a break."""
    walk = _Walk()
    must_reach = 0
    while True:
        while True:
            async with sessions.begin() as session:
                rows = (
                    await session.execute(
                        select(*_COLUMNS).where(_TABLE.c.id > walk.last_id).order_by(_TABLE.c.id).limit(batch)
                    )
                ).all()
            broken = walk.step([tuple(row) for row in rows])
            if broken is not None:
                return Verified(walk.checked, walk.last_hash, broken)
            if len(rows) < batch:
                break
        if walk.last_id < must_reach:
            return Verified(walk.checked, walk.last_hash, _missing(walk.last_id + 1, must_reach))
        async with sessions.begin() as session:
            head = (
                await session.execute(
                    select(AuditHead.last_id, AuditHead.hash).where(AuditHead.id == HEAD_ID)
                )
            ).first()
        if head is None:
            if walk.last_id == 0:
                return Verified(0, GENESIS, None)
            return Verified(
                walk.checked, walk.last_hash, Broken(walk.last_id, "the head row (audit_head) is missing")
            )
        last_id, head_hash = head
        if last_id > walk.last_id:  # appended while we walked, or deleted at the end: walk on and see
            must_reach = last_id
            continue
        if last_id < walk.last_id:
            return Verified(
                walk.checked - (walk.last_id - last_id),
                walk.last_hash,
                Broken(
                    last_id + 1, f"it comes after the last entry the head knows ({last_id}): added by hand"
                ),
            )
        if head_hash != walk.last_hash:
            return Verified(
                walk.checked,
                walk.last_hash,
                Broken(walk.last_id, "it does not match the head's hash (it was replaced)"),
            )
        return Verified(walk.checked, walk.last_hash, None)
