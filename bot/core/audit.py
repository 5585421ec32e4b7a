"""The audit trail: appended in the transaction of what it records, hash-chained, never rewritten.

What an entry holds is fixed here and nowhere else: when, on which network, who (a user's number), which
case (its number and reference), what (a command's name or a named action such as `member.joined`) and the
outcome. Never a message body, a plan text, a name or a secret: the trail outlives erasure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from bot.storage.models import AuditEntry, AuditHead
from bot.storage.repo import Repo

GENESIS = "0" * 64
HEAD_ID = 1


class Outcome:
    OK = "ok"
    REFUSED = "refused"
    INVALID = "invalid"
    FAILED = "failed"


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
    """Append an entry in the caller's transaction. The head row is locked until that transaction ends,
    so concurrent appends (several processes) are numbered one after the other, without gaps."""
    session = repo.session
    head = await session.scalar(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update())
    if head is None:  # a database from before the trail, or one built without the migration's first row
        head = AuditHead(id=HEAD_ID, last_id=0, hash=GENESIS)
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
        action=action[:48],
        outcome=outcome,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(entry)
    head.last_id, head.hash = entry_id, digest
    await session.flush()
    return entry


@dataclass(frozen=True)
class Broken:
    """The first entry where the chain does not hold, and why (in English, for operators)."""

    entry_id: int
    reason: str


async def verify(repo: Repo, batch: int = 5000) -> tuple[int, Broken | None]:
    """Walk the whole trail: each entry's hash recomputed, each link to the one before checked, the head
    compared with the last entry. Returns how many entries were checked and the first break, if any."""
    session = repo.session
    prev_hash, prev_id, checked, after = GENESIS, 0, 0, 0
    while True:
        rows = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(batch)
            )
        )
        for row in rows:
            if row.id != prev_id + 1:
                return checked, Broken(row.id, f"entries {prev_id + 1} to {row.id - 1} are missing")
            if row.prev_hash != prev_hash:
                return checked, Broken(row.id, "it does not follow the entry before it")
            expected = entry_hash(
                row.prev_hash,
                row.id,
                row.at,
                row.network,
                row.actor_id,
                row.case_id,
                row.case_ref,
                row.action,
                row.outcome,
            )
            if row.hash != expected:
                return checked, Broken(row.id, "its content does not match its hash (it was changed)")
            prev_hash, prev_id = row.hash, row.id
            checked += 1
        if len(rows) < batch:
            break
        after = rows[-1].id
    head = await session.get(AuditHead, HEAD_ID)
    if head is not None and (head.last_id != prev_id or head.hash != prev_hash):
        reason = f"the trail ends at entry {prev_id}, the head says {head.last_id}"
        return checked, Broken(prev_id + 1, reason)
    return checked, None
